() => {
  // Run once on page load by Gradio (launch js=): a click on an [n] marker in the chat
  // brings the matching source into view (opening an older turn's <details> if needed).
  if (!window.__ragCiteHandler) {
    window.__ragCiteHandler = true;
    document.addEventListener('click', function (ev) {
      var t = ev.target;
      var a = t && t.closest ? t.closest('a.rag-cite') : null;
      if (!a) return;
      ev.preventDefault();
      ev.stopPropagation();
      var id = a.getAttribute('data-src') || (a.getAttribute('href') || '').replace(/^#/, '');
      var el = document.getElementById(id);
      if (!el) return;
      var d = el.closest('details');
      if (d) d.open = true;
      document.querySelectorAll('.rag-src.rag-active').forEach(function (x) {
        x.classList.remove('rag-active');
      });
      el.classList.add('rag-active');
      el.classList.remove('rag-flash');
      void el.offsetWidth;
      el.classList.add('rag-flash');
      el.scrollIntoView({behavior: 'smooth', block: 'center'});
    }, true);
  }
}

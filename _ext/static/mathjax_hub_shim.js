// The widget manager (@jupyter-widgets/html-manager) typesets widget labels with the MathJax 2
// API, MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]). The book ships MathJax 3, which
// has no Hub, so every widget logged "Cannot read properties of undefined (reading 'Queue')".
// This forwards those calls to MathJax 3. Loaded (deferred) right after MathJax by
// _ext/page_fixes.py.
(function () {
  var mj = window.MathJax;
  if (!mj || mj.Hub || !mj.startup) return;
  mj.Hub = {
    Queue: function () {
      Array.prototype.forEach.call(arguments, function (job) {
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
          mj.startup.promise
            .then(function () { return mj.typesetPromise([job[2]]); })
            .catch(function (err) { console.warn("could not typeset a widget label", err); });
        }
      });
    },
  };
})();

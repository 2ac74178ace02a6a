// rltutor course site: explorable widgets. Each .rlt-explorable holds plain HTML controls
// and the precomputed grid (JSON); a move shows the picture and summary drawn for the
// nearest grid setting. No library, nothing fetched but the site's own pictures.
(function () {
  "use strict";
  function nearest(values, v) {
    var best = 0;
    for (var i = 1; i < values.length; i++) {
      if (Math.abs(values[i] - v) < Math.abs(values[best] - v)) best = i;
    }
    return best;
  }
  function setup(root) {
    var data = JSON.parse(root.querySelector("script.rlt-explorable-data").textContent);
    var img = root.querySelector("img.rlt-explorable-picture");
    var summary = root.querySelector(".rlt-explorable-summary");
    var fields = Array.prototype.slice.call(root.querySelectorAll("[data-axis]"));
    var loaded = null;
    function preload() {  // every picture of this panel, once, so a swap paints at once
      if (loaded) return;
      loaded = data.files.map(function (src) { var im = new Image(); im.src = src; return im; });
      Promise.all(loaded.map(function (im) { return im.decode().catch(function () {}); }))
        .then(function () { root.dataset.ready = "true"; });
    }
    function index(field) {
      var axis = data.controls[+field.dataset.axis];
      if (field.type === "checkbox") {  // a cut grid may hold only the checkbox's own state
        var k = axis.values.indexOf(field.checked);
        return k < 0 ? 0 : k;
      }
      if (field.tagName === "SELECT" || axis.kind === "slider-choice") return +field.value;
      return nearest(axis.values, +field.value);
    }
    function show(event) {
      var flat = 0;
      fields.forEach(function (field) {
        var axis = data.controls[+field.dataset.axis], i = index(field);
        if (axis.kind === "slider" || axis.kind === "number") field.value = axis.values[i];
        var readout = field.parentNode.querySelector("output");
        if (readout) readout.textContent = axis.labels[i];
        flat = flat * axis.values.length + i;
      });
      if (+root.dataset.setting === flat && img.getAttribute("src") === data.files[flat]) return;
      var start = event && event.timeStamp ? event.timeStamp : performance.now();
      img.src = data.files[flat];
      img.alt = data.alts[flat];
      summary.innerHTML = data.summaries[flat];
      root.dataset.setting = flat;
      img.decode().then(function () {
        requestAnimationFrame(function () {
          root.dataset.swapMs = (performance.now() - start).toFixed(1);
        });
      }, function () {});
    }
    function step(field, by) {  // arrow keys walk the grid, not the control's finer step
      var axis = data.controls[+field.dataset.axis];
      var i = Math.max(0, Math.min(axis.values.length - 1, index(field) + by));
      field.value = axis.kind === "slider-choice" ? i : axis.values[i];
    }
    fields.forEach(function (field) {
      field.addEventListener("input", show);
      field.addEventListener("change", show);
      if (field.type === "range" || field.type === "number") {
        field.addEventListener("keydown", function (event) {
          var by = {ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1}[event.key];
          if (!by) return;
          event.preventDefault();
          step(field, by);
          show(event);
        });
      }
    });
    root.addEventListener("pointerenter", preload);
    root.addEventListener("focusin", preload);
    if (document.readyState === "complete") preload();
    else window.addEventListener("load", preload);
  }
  document.querySelectorAll(".rlt-explorable").forEach(setup);
})();

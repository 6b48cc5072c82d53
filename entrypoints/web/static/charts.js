// Jingzhun's charts: each <div class="chart" data-chart="ID"> is drawn by ECharts (vendored, no
// network) from the JSON block <script type="application/json" id="ID">: {kind, categories,
// series: [{name, data, links}]}. A bar is a link to the cases behind it (links[i] of its series).
(function () {
  "use strict";
  var PALETTE = ["#a4161a", "#0b5cad", "#2e7d32", "#e08e0b", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"];

  function optionOf(spec, narrow) {
    return {
      color: PALETTE,
      animation: false,
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, confine: true},
      legend: {type: "scroll", top: 0},
      grid: {left: 8, right: 8, top: 36, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: spec.categories, axisLabel: {interval: 0, rotate: narrow && spec.categories.length > 6 ? 45 : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: spec.series.map(function (s) {
        return {name: s.name, type: "bar", stack: spec.kind === "stacked" ? "all" : undefined,
                data: s.data, emphasis: {focus: "series"}, cursor: "pointer"};
      })
    };
  }

  function draw(el) {
    var block = document.getElementById(el.dataset.chart);
    if (!block || !window.echarts) { return; }
    var spec = JSON.parse(block.textContent);
    var chart = window.echarts.init(el, null, {renderer: "canvas"});
    chart.setOption(optionOf(spec, el.clientWidth < 480));
    chart.on("click", function (p) {
      var s = spec.series[p.seriesIndex];
      var link = s && s.links && s.links[p.dataIndex];
      if (link && p.value) { window.location.href = link; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".chart[data-chart]").forEach(draw);
  });
})();

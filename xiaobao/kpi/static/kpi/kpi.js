// KPI trend charts: every <div class="kpi-chart" data-chart="ID"> is drawn from the JSON in
// <script type="application/json" id="ID"> (Django's json_script), never from inline script, so the
// Content-Security-Policy holds. A click on a month opens that month's drill-down.
(function () {
  function draw(el) {
    if (el.dataset.drawn) return;
    var data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    var small = el.classList.contains("kpi-spark");
    chart.setOption({
      textStyle: { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, sans-serif" },
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return v === null || v === undefined ? "—" : (data.percent ? v + "%" : v); }
      },
      grid: small ? { left: 4, right: 4, top: 6, bottom: 4 } : { left: 48, right: 16, top: 24, bottom: 36 },
      xAxis: { type: "category", data: data.labels, show: !small },
      yAxis: { type: "value", show: !small, scale: true },
      series: [{
        name: data.name, type: "line", data: data.values, connectNulls: false, symbolSize: small ? 4 : 6,
        itemStyle: { color: "#b3261e" }, lineStyle: { width: 2 }, areaStyle: small ? { opacity: 0.08 } : undefined
      }]
    });
    if (data.links) {
      chart.on("click", function (params) {
        var url = data.links[params.dataIndex];
        if (url) window.location.href = url;
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.drawn = "1";
  }
  function drawAll(root) {
    (root || document).querySelectorAll(".kpi-chart[data-chart]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();

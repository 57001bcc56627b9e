// Renders every <div class="chart" data-chart="ID"> from the JSON in <script id="ID"> with ECharts.
// Data travels as JSON, never as inline script, so the Content-Security-Policy holds.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
    var data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      textStyle: { fontFamily: "Noto Sans CJK SC, Microsoft YaHei, sans-serif" },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 12, right: 20, top: 36, bottom: 8, containLabel: true },  // long unit names stay inside
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 8 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: el.dataset.seriesCount, type: "bar", data: data.count, itemStyle: { color: "#b3261e" } },
        { name: el.dataset.seriesClosed, type: "bar", data: data.closed, itemStyle: { color: "#5f6b7a" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});

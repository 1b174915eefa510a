/* Dashboard charts (Apache ECharts, vendored). Data comes from the page (json_script), never from the network. */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
  ready(function () {
    var node = document.getElementById("chart-data");
    if (!node || !window.echarts) { return; }
    var data = JSON.parse(node.textContent);
    var sel = data.selected, rate = sel.unit === "rate";
    var fmt = function (v) { return v === null || v === undefined ? "—" : (rate ? v.toFixed(1) + "%" : String(v)); };
    var brand = "#c2410c", good = "#15803d", bad = "#b91c1c";
    var charts = [];

    var trendEl = document.getElementById("trend-chart");
    if (trendEl) {
      var trend = echarts.init(trendEl, null, { renderer: "svg" });
      trend.setOption({
        animation: false,
        grid: { left: 44, right: 16, top: 16, bottom: 28 },
        tooltip: { trigger: "axis", valueFormatter: fmt },
        xAxis: { type: "category", data: data.trend.map(function (t) { return t.period; }) },
        yAxis: rate ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } } : { type: "value", minInterval: 1 },
        series: [{
          name: sel.label, type: "line", smooth: false, connectNulls: false, symbolSize: 7,
          data: data.trend.map(function (t) { return t.value; }), itemStyle: { color: brand },
          markLine: { silent: true, symbol: "none", lineStyle: { color: "#9ca3af", type: "dashed" },
                      label: { formatter: "目标", position: "insideEndTop" }, data: [{ yAxis: sel.target }] }
        }]
      });
      charts.push(trend);
    }

    var areaEl = document.getElementById("area-chart");
    if (areaEl && data.areas.some(function (a) { return a.value !== null; })) {
      // Worst first, as the page sorts them; areas without a value of this indicator stay in the table only.
      var areas = data.areas.filter(function (a) { return a.value !== null; }).slice(0, 30);
      areaEl.style.height = Math.max(220, 26 * areas.length + 40) + "px";
      var bars = echarts.init(areaEl, null, { renderer: "svg" });
      bars.setOption({
        animation: false,
        grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
        tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + fmt(p.value); } },
        xAxis: rate ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } } : { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, data: areas.map(function (a) { return a.name; }), axisLabel: { width: 96, overflow: "truncate" } },
        series: [{
          type: "bar", barMaxWidth: 18,
          data: areas.map(function (a) {
            var ok = a.value !== null && (sel.better === "high" ? a.value >= sel.target : a.value <= sel.target);
            return { value: a.value, code: a.code, itemStyle: { color: a.value === null ? "#d1d5db" : (ok ? good : (a.value < sel.target * 0.8 ? bad : brand)) } };
          }),
          label: { show: true, position: "right", formatter: function (p) { return fmt(p.value); } }
        }]
      });
      bars.on("click", function (p) {
        var url = new URL(window.location.href);
        url.searchParams.set("region", p.data.code);
        window.location.href = url.toString();
      });
      charts.push(bars);
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();

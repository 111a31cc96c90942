/* The county maps of a province's overview: a collapsible panel (top left)
   listing each county with its findings by severity, each a link to the
   county's own map. Names arrive as text; links are file names geoplan made,
   relative to this page, and open only as such (no scheme is accepted). */
(function (geoplan) {
  "use strict";

  var RELATIVE = /^county-maps\/[0-9]+\.html$/;

  /* spec = {note, severities: [[key, title]], links: [{name, href, counts}]}. */
  geoplan.countyMaps = function (map, spec) {
    var box = document.createElement("details");
    box.className = "geoplan-panel geoplan-county-maps";
    box.open = true;
    box.appendChild(geoplan.text("summary", "县级详图（" + spec.links.length + " 个县）"));
    box.appendChild(geoplan.text("div", spec.note, "geoplan-findings-count"));
    var list = document.createElement("ul");
    spec.links.forEach(function (link) {
      if (!RELATIVE.test(link.href)) return;
      var item = document.createElement("li");
      var anchor = geoplan.text("a", link.name);
      anchor.href = link.href;
      anchor.setAttribute("data-county-map", link.href);
      item.appendChild(anchor);
      var counts = spec.severities
        .filter(function (s) { return link.counts[s[0]]; })
        .map(function (s) { return s[1] + " " + link.counts[s[0]].toLocaleString("zh-CN"); });
      item.appendChild(geoplan.text("small", counts.length ? counts.join(" · ") : "无冲突"));
      list.appendChild(item);
    });
    box.appendChild(list);
    geoplan.control(map, box, "topleft");
  };
})(geoplan);

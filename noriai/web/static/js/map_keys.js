// The keyboard path of Noriai's map point pickers (operator console, trip planner): the map is one tab
// stop; the arrow keys move a cross-hair (Shift: four times as far), Enter or Space picks the point under
// it (or, where the map first zooms in, zooms in around it), Home puts it back in the middle. Every move
// and pick is said in a polite live region, as the distance and direction from the nearest named place,
// so a screen-reader user knows where the cross-hair is without seeing the map.
//
// mapKeys(svg, opts) is called after every redraw of the map, with
//   width, height      the SVG's viewBox size
//   places             [{name, name_en, lat, lon}] to describe positions by
//   toLatLon(x, y)     viewBox coordinates -> {lat, lon} for the map as drawn now
//   pick(x, y)         what a click at (x, y) does
//   lang()             "ja" or "en": the language of the sentences ("both" gives "ja / en")
//   label              the map's name for screen readers
//   recentre           true when the view changed (the cross-hair goes back to the middle)
//   pickZooms          true when picking at this zoom only zooms in (the operator's whole-area view)
(function () {
  "use strict";
  const DIRS = [["北", "north"], ["北東", "north-east"], ["東", "east"], ["南東", "south-east"],
    ["南", "south"], ["南西", "south-west"], ["西", "west"], ["北西", "north-west"]];

  function metres(a, b) {
    const r = Math.PI / 180, dLat = (b.lat - a.lat) * r, dLon = (b.lon - a.lon) * r;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371000 * Math.asin(Math.sqrt(h));
  }
  function bearing(a, b) {  // degrees clockwise from north, from a to b (flat earth is fine at this scale)
    const dx = (b.lon - a.lon) * Math.cos(a.lat * Math.PI / 180), dy = b.lat - a.lat;
    return (Math.atan2(dx, dy) * 180 / Math.PI + 360) % 360;
  }
  function say(lang, ja, en) { return lang === "en" ? en : lang === "ja" ? ja : `${ja} / ${en}`; }

  // "湯田温泉の北東 約250 m" / "about 250 m north-east of Yuda Onsen" (or "湯田温泉のすぐそば" within 30 m)
  function describe(p, places, lang) {
    let best = null, bestM = Infinity;
    for (const q of places) { const m = metres(p, q); if (m < bestM) { best = q; bestM = m; } }
    const where = `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
    if (!best) return where;
    const en = best.name_en || best.name;
    if (bestM < 30) return say(lang, `${best.name}のすぐそば（${where}）`, `right by ${en} (${where})`);
    const d = DIRS[Math.round(bearing(best, p) / 45) % 8];
    const m = bestM < 1000 ? `${Math.round(bestM / 10) * 10} m` : `${(bestM / 1000).toFixed(1)} km`;
    return say(lang, `${best.name}の${d[0]} 約${m}（${where}）`, `about ${m} ${d[1]} of ${en} (${where})`);
  }

  function status(svg) {
    if (!svg._mapStatus) {
      const s = document.createElement("div");
      s.className = "sr"; s.setAttribute("role", "status"); s.setAttribute("aria-live", "polite");
      s.id = `${svg.id}-status`;
      svg.insertAdjacentElement("afterend", s);
      svg._mapStatus = s;
    }
    return svg._mapStatus;
  }

  function drawCross(svg, k) {
    const ns = "http://www.w3.org/2000/svg";
    let g = svg.querySelector("g.crosshair");
    if (!g) {
      g = document.createElementNS(ns, "g"); g.setAttribute("class", "crosshair"); g.setAttribute("aria-hidden", "true");
      for (const [x1, y1, x2, y2] of [[-14, 0, -4, 0], [4, 0, 14, 0], [0, -14, 0, -4], [0, 4, 0, 14]])
        for (const [colour, w] of [["#fff", 5], ["#111", 2]]) {
          const l = document.createElementNS(ns, "line");
          for (const [a, v] of Object.entries({x1, y1, x2, y2, stroke: colour, "stroke-width": w})) l.setAttribute(a, v);
          g.append(l);
        }
      const c = document.createElementNS(ns, "circle");
      for (const [a, v] of Object.entries({r: 3, fill: "none", stroke: "#111", "stroke-width": 1.5})) c.setAttribute(a, v);
      g.append(c);
    }
    svg.append(g);  // last child: drawn above places and markers
    g.setAttribute("transform", `translate(${k.x} ${k.y})`);
  }

  window.mapKeys = function (svg, opts) {
    const k = svg._mapKeys || (svg._mapKeys = {x: opts.width / 2, y: opts.height / 2});
    if (opts.recentre) { k.x = opts.width / 2; k.y = opts.height / 2; }
    k.opts = opts;
    svg.setAttribute("tabindex", "0");
    svg.setAttribute("role", "application");
    svg.setAttribute("aria-roledescription", say(opts.lang(), "地図", "map"));
    svg.setAttribute("aria-label", `${opts.label} ${say(opts.lang(),
      "矢印キーで十字を動かし、Enterで指定します（Shift+矢印で大きく移動、Homeで中央へ）",
      "arrow keys move the cross-hair, Enter picks (Shift+arrow moves further, Home recentres)")}`);
    svg.setAttribute("aria-describedby", status(svg).id);
    drawCross(svg, k);
    if (svg._mapKeysBound) return;
    svg._mapKeysBound = true;
    svg.addEventListener("keydown", ev => {
      const o = k.opts, step = ev.shiftKey ? 40 : 10;
      const moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]};
      if (ev.key in moves) {
        const [dx, dy] = moves[ev.key];
        k.x = Math.min(o.width, Math.max(0, k.x + dx)); k.y = Math.min(o.height, Math.max(0, k.y + dy));
      } else if (ev.key === "Home") {
        k.x = o.width / 2; k.y = o.height / 2;
      } else if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        const p = o.toLatLon(k.x, k.y), zooms = Boolean(o.pickZooms);
        o.pick(k.x, k.y);  // may redraw the map (and call mapKeys again)
        status(svg).textContent = zooms
          ? say(o.lang(), `拡大しました。${describe(p, o.places, "ja")}。もう一度Enterで指定します`,
              `zoomed in at ${describe(p, o.places, "en")}; press Enter again to pick`)
          : say(o.lang(), `指定しました: ${describe(p, o.places, "ja")}`, `picked: ${describe(p, o.places, "en")}`);
        return;
      } else return;
      ev.preventDefault();
      drawCross(svg, k);
      status(svg).textContent = describe(o.toLatLon(k.x, k.y), o.places, o.lang());
    });
  };
})();

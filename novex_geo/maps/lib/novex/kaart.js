/*
 * novex-geo kaartsessie controls: title block, layer panel, legend, sketch panel and the
 * layout that keeps every control clear of the others and of the popups.
 *
 * Text from data arrives as JSON strings and enters the page through textContent, never as
 * HTML. The exceptions are the layer panel (leaflet-groupedlayercontrol writes layer names as
 * HTML), the features' tooltips and the popup items: novex-geo HTML-escapes every value from
 * data in those before they get here.
 *
 * The layers, the popup a click opens and the tooltips' placement: lagen.js.
 */
(function () {
  "use strict";

  var GAP = 10; // px between a control and the free area, and around popups
  var POPUP_CHROME = 60; // px of a popup box that is not its content: padding, tip, close button

  function node(tag, className, parent, text) {
    var element = L.DomUtil.create(tag, className || "", parent);
    if (text !== undefined && text !== null) {
      element.textContent = text;
    }
    return element;
  }

  function panel(position, className, build) {
    var Panel = L.Control.extend({
      options: {position: position},
      onAdd: function () {
        var box = node("div", "novex-panel " + className);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        build(box);
        return box;
      },
    });
    return new Panel();
  }

  /* A header button that folds the panel's body away; the layout decides the first state. */
  function foldable(box, title, onToggle) {
    var button = node("button", "novex-toggle", null, title);
    button.type = "button";
    box.insertBefore(button, box.firstChild);
    box.classList.add("novex-foldable");
    L.DomEvent.on(button, "click", function () {
      setFolded(box, !box.classList.contains("novex-folded"));
      onToggle(box);
    });
    return box;
  }

  function setFolded(box, folded) {
    box.classList.toggle("novex-folded", folded);
    var button = box.querySelector(".novex-toggle");
    if (button) {
      button.setAttribute("aria-expanded", folded ? "false" : "true");
    }
  }

  function controls(map, side) {
    var container = map.getContainer();
    return Array.prototype.filter.call(
      container.querySelectorAll(".leaflet-" + side + " > .leaflet-control"),
      function (element) {
        return element.offsetWidth > 0 && element.offsetHeight > 0;
      }
    );
  }

  function rect(map, element) {
    var outer = map.getContainer().getBoundingClientRect();
    var inner = element.getBoundingClientRect();
    return {
      left: inner.left - outer.left,
      right: inner.right - outer.left,
      top: inner.top - outer.top,
      bottom: inner.bottom - outer.top,
    };
  }

  /* The part of the map that no control covers: between the left and the right column. */
  function freeArea(map) {
    var size = map.getSize();
    var free = {left: GAP, right: size.x - GAP, top: GAP, bottom: size.y - GAP};
    controls(map, "left").forEach(function (element) {
      free.left = Math.max(free.left, rect(map, element).right + GAP);
    });
    controls(map, "right").forEach(function (element) {
      free.right = Math.min(free.right, rect(map, element).left - GAP);
    });
    return free;
  }

  function columnOverlaps(map, horizontal) {
    var top = controls(map, "top").filter(function (element) {
      return element.parentNode.classList.contains("leaflet-" + horizontal);
    });
    var bottom = controls(map, "bottom").filter(function (element) {
      return element.parentNode.classList.contains("leaflet-" + horizontal);
    });
    var lowest = Math.max.apply(null, [0].concat(top.map(function (e) { return rect(map, e).bottom; })));
    var highest = Math.min.apply(null, [map.getSize().y].concat(bottom.map(function (e) { return rect(map, e).top; })));
    return lowest + GAP > highest;
  }

  /* Fold panels (the largest first, never the one just opened) until no column overlaps. */
  function arrange(map, keepOpen) {
    ["left", "right"].forEach(function (horizontal) {
      var foldables = Array.prototype.slice.call(
        map.getContainer().querySelectorAll(".leaflet-" + horizontal + " .novex-foldable:not(.novex-folded)")
      ).filter(function (box) { return box !== keepOpen; });
      foldables.sort(function (a, b) { return b.offsetHeight - a.offsetHeight; });
      while (columnOverlaps(map, horizontal) && foldables.length) {
        setFolded(foldables.shift(), true);
      }
    });
  }

  function titleBlock(config, notice) {
    return panel("topright", "novex-title", function (box) {
      node("b", "", box, config.title.heading);
      node("div", "", box, config.title.date);
      var sources = node("div", "novex-sources", box, config.title.sources);
      sources.title = config.title.sources;
      if (config.title.demo) {
        node("div", "novex-demo", box, config.title.demo);
      }
      notice.element = node("div", "novex-notice", box, config.basemapUnavailable);
      notice.element.hidden = true;
    });
  }

  function legend(config, relayout) {
    return panel("bottomleft", "novex-legend", function (box) {
      var body = node("div", "novex-body", box);
      config.legend.forEach(function (section) {
        node("div", "novex-legend-heading", body, section.heading);
        section.entries.forEach(function (entry) {
          var row = node("div", "novex-legend-row", body);
          var swatch = node("span", "novex-swatch novex-swatch-" + entry.kind, row);
          swatch.style.setProperty("--swatch", entry.colour);
          node("span", "", row, entry.label);
        });
      });
      config.notes.forEach(function (note) {
        node("p", "novex-note", body, note);
      });
      foldable(box, config.legendTitle, relayout);
    });
  }

  /* The sketch panel: every drawn polygon takes the sector, the actie (toevoegen: a new claim;
     verwijderen: that sector's claims inside it are cut away) and the variant name picked in
     the panel, now or after drawing (the last drawn or clicked polygon); the Export button
     saves all of them in one GeoJSON, which ``novex-geo sketch`` or ``novex-geo varianten``
     evaluates (one variant per name). */
  function sketchTools(map, config) {
    merge(L.drawLocal, config.draw);
    var drawn = new L.FeatureGroup().addTo(map);
    var colours = {};
    config.sectors.forEach(function (sector) { colours[sector.key] = sector.colour; });
    new L.Control.Draw({
      position: "topleft",
      draw: {polyline: false, circle: false, circlemarker: false, marker: false,
             polygon: {showArea: true, metric: true}, rectangle: {showArea: true, metric: true}},
      edit: {featureGroup: drawn},
    }).addTo(map);
    var current = null;
    var fields = {};
    var status = null;

    function paint(layer) {
      var properties = layer.feature.properties;
      var colour = colours[properties.sector];
      var away = properties.actie === config.sketch.actions[1].key;
      layer.setStyle({color: away ? "#222222" : colour, fillColor: colour, weight: 3,
                      dashArray: away ? "2 5" : "6 4", fillOpacity: away ? 0.08 : 0.25});
      var tip = node("span", ""); // the variant name is what someone typed: text, never HTML
      tip.textContent = properties.variant + ": " + (away ? config.sketch.actions[1].label
        : config.sketch.actions[0].label) + " " + (labels[properties.sector] || properties.sector);
      layer.unbindTooltip().bindTooltip(tip, {sticky: true, className: "novex-tooltip"});
    }

    var labels = {};
    config.sectors.forEach(function (sector) { labels[sector.key] = sector.label; });

    function choice(box, id, text, options) {
      var label = node("label", "novex-sketch-field", box, text + " ");
      var select = node("select", "", label);
      select.id = id;
      options.forEach(function (item) {
        var option = node("option", "", select, item.label);
        option.value = item.key;
      });
      return select;
    }

    panel("topleft", "novex-sketch", function (box) {
      fields.sector = choice(box, "novex-sector", config.sketch.label, config.sectors);
      fields.actie = choice(box, "novex-actie", config.sketch.actionLabel, config.sketch.actions);
      var named = node("label", "novex-sketch-field", box, config.sketch.variantLabel + " ");
      fields.variant = node("input", "", named);
      fields.variant.id = "novex-variant";
      fields.variant.type = "text";
      fields.variant.maxLength = 80;
      fields.variant.value = config.sketch.variantDefault;
      var button = node("button", "novex-export", box, config.sketch.button);
      button.type = "button";
      status = node("div", "novex-status", box);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      ["sector", "actie", "variant"].forEach(function (key) {
        L.DomEvent.on(fields[key], key === "variant" ? "input" : "change", function () {
          if (current) { // the last drawn (or clicked) polygon takes what is picked
            current.feature.properties[key] = key === "variant" ? variantName() : fields[key].value;
            paint(current);
          }
        });
      });
      L.DomEvent.on(button, "click", function () {
        var sketch = drawn.toGeoJSON();
        if (!sketch.features.length) {
          status.textContent = config.sketch.empty;
          return;
        }
        var link = node("a", "", document.body);
        link.href = URL.createObjectURL(new Blob([JSON.stringify(sketch)], {type: "application/geo+json"}));
        link.download = config.sketch.filename;
        link.click();
        document.body.removeChild(link);
        var variants = {};
        sketch.features.forEach(function (feature) { variants[feature.properties.variant] = true; });
        status.textContent = config.sketch.saved.replace("{n}", String(sketch.features.length))
          .replace("{v}", String(Object.keys(variants).length));
      });
    }).addTo(map);

    function variantName() {
      return fields.variant.value.trim() || config.sketch.variantDefault;
    }

    map.on(L.Draw.Event.CREATED, function (event) {
      var layer = event.layer;
      layer.feature = {type: "Feature", properties: {
        sector: fields.sector.value, actie: fields.actie.value, variant: variantName()}};
      paint(layer);
      drawn.addLayer(layer);
      current = layer;
      layer.on("click", function (click) {
        L.DomEvent.stopPropagation(click); // selecting a sketch lists nothing under it
        current = layer;
        fields.sector.value = layer.feature.properties.sector;
        fields.actie.value = layer.feature.properties.actie;
        fields.variant.value = layer.feature.properties.variant;
      });
      status.textContent = "";
    });
    map.on(L.Draw.Event.DELETED, function () {
      if (current && !drawn.hasLayer(current)) { current = null; }
    });
  }

  /* Copy ``from``'s texts into ``into`` (L.drawLocal), keeping what ``from`` does not have. */
  function merge(into, from) {
    Object.keys(from).forEach(function (key) {
      if (typeof from[key] === "object" && typeof into[key] === "object") {
        merge(into[key], from[key]);
      } else {
        into[key] = from[key];
      }
    });
  }

  function measureTool(map) {
    // leaflet-measure with Leaflet >= 1.8: https://github.com/ljagis/leaflet-measure/issues/171
    L.Control.Measure.include({
      _setCaptureMarkerIcon: function () {
        this._captureMarker.options.autoPanOnFocus = false;
        this._captureMarker.setIcon(L.divIcon({iconSize: this._map.getSize().multiplyBy(2)}));
      },
    });
    var measure = new L.Control.Measure({
      position: "topleft", primaryLengthUnit: "meters", secondaryLengthUnit: "kilometers",
      primaryAreaUnit: "hectares", secondaryAreaUnit: "sqmeters", localization: "nl",
    });
    map.addControl(measure);
    return measure;
  }

  function watchBasemaps(map, basemaps, notice, relayout) {
    var counts = {errors: 0, loads: 0};
    function update() {
      var unavailable = counts.errors > 0 && counts.loads === 0;
      if (notice.element.hidden === unavailable) {
        notice.element.hidden = !unavailable;
        relayout();
      }
    }
    Object.keys(basemaps).forEach(function (name) {
      var layer = basemaps[name];
      layer.on("tileerror", function () { if (map.hasLayer(layer)) { counts.errors += 1; update(); } });
      layer.on("tileload", function () { if (map.hasLayer(layer)) { counts.loads += 1; update(); } });
    });
    map.on("baselayerchange", function () { counts = {errors: 0, loads: 0}; update(); });
  }

  /* Popups take the size of the free area and pan into it. */
  function fitPopups(map) {
    map.on("popupopen", function (event) {
      var popup = event.popup;
      var free = freeArea(map);
      var size = map.getSize();
      popup.options.maxWidth = Math.max(120, Math.min(480, free.right - free.left - 2 * GAP));
      popup.options.minWidth = Math.min(popup.options.minWidth || 50, popup.options.maxWidth);
      popup.options.maxHeight = Math.max(80, free.bottom - free.top - POPUP_CHROME);
      popup.options.autoPan = true;
      popup.options.autoPanPaddingTopLeft = L.point(free.left, free.top);
      popup.options.autoPanPaddingBottomRight = L.point(size.x - free.right, size.y - free.bottom);
      popup.update();
    });
  }

  /* The hatch that fills the kansen: an SVG pattern the page's stylesheet points their paths
     at (fill: url(#...)), in the kansen's colour. */
  function hatchPattern(hatch) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "0");
    svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true");
    svg.style.position = "absolute";
    var pattern = document.createElementNS(ns, "pattern");
    pattern.id = hatch.className + "-hatch";
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "8");
    pattern.setAttribute("height", "8");
    pattern.setAttribute("patternTransform", "rotate(45)");
    var line = document.createElementNS(ns, "rect");
    line.setAttribute("width", "3");
    line.setAttribute("height", "8");
    line.setAttribute("fill", hatch.colour);
    pattern.appendChild(line);
    var defs = document.createElementNS(ns, "defs");
    defs.appendChild(pattern);
    svg.appendChild(defs);
    document.body.appendChild(svg);
  }

  /* A layer switched on comes back in its place, not on top (a stapeling face over an area). */
  function keepStacked(map, stack) {
    map.on("overlayadd", function () {
      stack.forEach(function (layer) {
        if (map.hasLayer(layer)) { layer.bringToFront(); }
      });
    });
  }

  /* The main map follows the overview map only when a user moved the overview map. The plugin
     tells the two apart with one flag that two quick moves of the main map (a popup panning
     itself into view, then a pan or zoom) leave wrong: the main map then moved by itself a
     moment later, to the overview's centre, which is up to 16 px off at its coarser zoom. */
  function followOnlyUserMoves(map, minimap) {
    var overview = minimap._miniMap, syncing = false, byUser = false;
    var sync = minimap._onMainMapMoved, follow = minimap._onMiniMapMoved;
    map.off("moveend", sync, minimap);
    map.on("moveend", function (event) {
      syncing = true;
      try {
        sync.call(minimap, event);
      } finally {
        syncing = false;
      }
    });
    overview.on("movestart", function () {
      byUser = !syncing;
      if (byUser) {
        minimap._mainMapMoving = false; // the plugin's drag shadow shows for a user's move
      }
    });
    overview.off("moveend", follow, minimap);
    overview.on("moveend", function (event) {
      if (byUser) {
        minimap._mainMapMoving = false;
        follow.call(minimap, event);
      }
      byUser = false;
    });
  }

  /* Leaflet's and the overview map's own button titles in Dutch. */
  function dutchButtons(map, config) {
    [[map.zoomControl && map.zoomControl._zoomInButton, config.zoom[0]],
     [map.zoomControl && map.zoomControl._zoomOutButton, config.zoom[1]]].forEach(function (pair) {
      if (pair[0]) {
        pair[0].title = pair[1];
        pair[0].setAttribute("aria-label", pair[1]);
      }
    });
  }

  window.novexKaart = function (map, config, basemaps, overlays, stack) {
    var notice = {element: null};
    hatchPattern(config.hatch);
    var relayout = function (keepOpen) { arrange(map, keepOpen); };
    L.control.fullscreen({position: "topleft", title: config.fullscreen[0], titleCancel: config.fullscreen[1]})
      .addTo(map);
    dutchButtons(map, config);
    sketchTools(map, config);
    var measure = measureTool(map);
    titleBlock(config, notice).addTo(map);
    // a comparison's situations are radio buttons: one variant at a time
    var layers = L.control.groupedLayers(basemaps, overlays, {collapsed: false, position: "topright",
      exclusiveGroups: config.exclusiveGroups || []}).addTo(map);
    var layerBox = layers.getContainer();
    layerBox.classList.add("novex-panel", "novex-layers");
    foldable(layerBox, config.layersTitle, relayout);
    L.control.scale({metric: true, imperial: false, position: "bottomleft"}).addTo(map);
    legend(config, relayout).addTo(map);
    var outline = L.geoJSON(config.overview, {interactive: false,
      style: {color: "#444444", weight: 1, fillColor: "#bbbbbb", fillOpacity: 0.7}});
    var minimap = new L.Control.MiniMap(outline, {position: "bottomright", toggleDisplay: true,
      zoomLevelOffset: -4, width: 140, height: 140, strings: config.minimap}).addTo(map);
    followOnlyUserMoves(map, minimap);
    watchBasemaps(map, basemaps, notice, relayout);
    keepStacked(map, stack);
    fitPopups(map);
    window.novexLagen.pickOnClick(map, config.pick, measure);
    window.novexLagen.keepTooltipsClear(map);
    relayout(null);
    map.on("resize", function () { relayout(null); });
    var free = freeArea(map);
    var size = map.getSize();
    map.fitBounds(config.bounds, {
      paddingTopLeft: [free.left, free.top],
      paddingBottomRight: [size.x - free.right, size.y - free.bottom],
    });
  };
})();

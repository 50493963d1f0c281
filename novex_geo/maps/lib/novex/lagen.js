/*
 * novex-geo kaartsessie layers: the GeoJSON layers (novexLayer), the claims drawn as an image
 * where they did not fit the file-size budget as vectors (novexRaster), one popup for a click
 * that lists every schuurpunt, kans and spanningsgebied under it whichever layer lies on top,
 * and tooltips that turn away from the controls.
 *
 * Tooltips and popup items are HTML that novex-geo made: every value from data in them is
 * HTML-escaped before it gets here. The popup's heading is put in as text.
 */
(function () {
  "use strict";

  var SLOP = 5; // px around an object too small to hit exactly that a click still takes it
  var EDGE = 2; // px beyond an outline that a click still takes
  var RASTER_PANE = "novexRaster"; // under the vector layers (overlayPane, z-index 400)
  var pickable = []; // the GeoJSON layers whose features a click lists (schuurpunten, kansen, ...)

  function node(tag, className, parent, text) {
    var element = L.DomUtil.create(tag, className || "", parent);
    if (text !== undefined && text !== null) {
      element.textContent = text;
    }
    return element;
  }

  /* A GeoJSON layer in ``group``: ``options.style`` for every feature (a feature's ``fill``,
     ``line`` and ``dash`` properties override its fill colour, line colour and dash pattern),
     its escaped ``tip`` as a tooltip that follows the
     mouse; ``options.pick`` names the kind a click lists (from its escaped ``popup``). */
  window.novexLayer = function (group, options, data) {
    var base = options.style || {};
    var layer = L.geoJSON(data, {
      style: function (feature) {
        var own = feature.properties;
        if (!own.fill && !own.line && !own.dash) {
          return base;
        }
        var style = L.extend({}, base);
        if (own.fill) { style.fillColor = own.fill; }
        if (own.line) { style.color = own.line; }
        if (own.dash) { style.dashArray = own.dash; }
        return style;
      },
      onEachFeature: function (feature, path) {
        if (feature.properties.tip) {
          path.bindTooltip(feature.properties.tip, {sticky: true, className: "novex-tooltip"});
        }
      },
    });
    if (options.pick) {
      layer.novexPick = options.pick;
      pickable.push(layer);
    }
    return layer.addTo(group);
  };

  /* The claims that did not fit as vectors: a PNG in Web Mercator under every vector layer. */
  window.novexRaster = function (map, group, options) {
    if (!map.getPane(RASTER_PANE)) {
      map.createPane(RASTER_PANE).style.zIndex = 350;
    }
    var image = L.imageOverlay(options.url, options.bounds, {pane: RASTER_PANE, interactive: false});
    image.novexSector = options.sector;
    return image.addTo(group);
  };

  /* Is the layer point ``point`` on ``path``? Leaflet's own hit test (the drawn rings and the
     stroke), or within EDGE px of the outline (the drawing is offset by a fraction of a pixel),
     or for an object only a few pixels large, within SLOP of it. */
  function under(path, point) {
    var bounds = path._pxBounds;
    if (!bounds || !path._parts ||
        !L.bounds(bounds.min.subtract([SLOP, SLOP]), bounds.max.add([SLOP, SLOP])).contains(point)) {
      return false;
    }
    if (path._containsPoint(point)) {
      return true;
    }
    var size = bounds.getSize();
    if (size.x <= 2 * SLOP && size.y <= 2 * SLOP) {
      return true;
    }
    var reach = path._clickTolerance() + EDGE;
    return path._parts.some(function (part) {
      for (var j = 0, k = part.length - 1; j < part.length; k = j++) {
        if (L.LineUtil.pointToSegmentDistance(point, part[k], part[j]) <= reach) {
          return true;
        }
      }
      return false;
    });
  }

  function picked(map, point) {
    var hits = [];
    pickable.forEach(function (layer) {
      if (!map.hasLayer(layer)) {
        return;
      }
      layer.eachLayer(function (path) {
        if (path.feature.properties.popup && under(path, point)) {
          hits.push({kind: layer.novexPick, html: path.feature.properties.popup});
        }
      });
    });
    return hits;
  }

  /* One popup for every pick: a heading that counts them (when more than one), then each
     item's escaped HTML, schuurpunten first, then kansen, then the spanningsgebied. */
  function pickContent(text, hits) {
    var box = node("div", "novex-pick");
    var kinds = text.order; // the page's JSON has its keys sorted
    var counts = kinds.map(function (kind) {
      return hits.filter(function (hit) { return hit.kind === kind; }).length;
    });
    if (hits.length > 1) {
      var parts = [];
      kinds.forEach(function (kind, index) {
        if (counts[index]) {
          parts.push(counts[index] + " " + text.kinds[kind][counts[index] === 1 ? 0 : 1]);
        }
      });
      var last = parts.pop();
      node("p", "novex-pick-head", box,
        text.here + " " + (parts.length ? parts.join(", ") + " " + text.and + " " : "") + last);
    }
    kinds.forEach(function (kind, index) {
      hits.filter(function (hit) { return hit.kind === kind; }).slice(0, text.limit).forEach(function (hit) {
        var item = node("div", "novex-pick-item novex-pick-" + kind, box);
        item.innerHTML = hit.html; // escaped by novex-geo
      });
      if (counts[index] > text.limit) {
        node("p", "novex-pick-more", box, text.more.replace("{n}", String(counts[index] - text.limit)));
      }
    });
    return box;
  }

  /* A click lists what lies under it, unless the Draw or measure tool takes the clicks. */
  function pickOnClick(map, text, measure) {
    var drawing = false;
    map.on("draw:drawstart draw:editstart draw:deletestart", function () { drawing = true; });
    map.on("draw:drawstop draw:editstop draw:deletestop", function () { drawing = false; });
    map.on("click", function (event) {
      if (drawing || measure._locked) {
        return;
      }
      var hits = picked(map, event.layerPoint);
      if (hits.length) {
        L.popup({maxWidth: 480, className: "novex-pick-popup"})
          .setLatLng(event.latlng)
          .setContent(pickContent(text, hits))
          .openOn(map);
      }
    });
  }

  function overlap(a, b) {
    return Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) *
      Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  }

  /* How much of ``element`` a control covers or lies outside the map, in px². */
  function hidden(map, element) {
    var box = element.getBoundingClientRect();
    var outside = box.width * box.height - overlap(box, map.getContainer().getBoundingClientRect());
    var controls = map.getContainer().querySelectorAll(".leaflet-control-container .leaflet-control");
    return Array.prototype.reduce.call(controls, function (sum, control) {
      return control.offsetWidth ? sum + overlap(box, control.getBoundingClientRect()) : sum;
    }, outside);
  }

  /* A tooltip that a control would cover (the legend, the layer panel) turns to the side where
     none does: right, left, above or below the mouse, the least covered when none is free. */
  function keepTooltipsClear(map) {
    var place = L.Tooltip.prototype._setPosition;
    L.Tooltip.prototype._setPosition = function (position) {
      place.call(this, position);
      if (this._map !== map || hidden(map, this._container) === 0) {
        return;
      }
      var preferred = this.options.direction;
      var best = null;
      ["right", "left", "top", "bottom"].some(function (direction) {
        this.options.direction = direction;
        place.call(this, position);
        var covered = hidden(map, this._container);
        if (!best || covered < best.covered) {
          best = {direction: direction, covered: covered};
        }
        return covered === 0;
      }, this);
      if (best.direction !== this.options.direction) {
        this.options.direction = best.direction;
        place.call(this, position);
      }
      this.options.direction = preferred;
    };
  }

  window.novexLagen = {pickOnClick: pickOnClick, keepTooltipsClear: keepTooltipsClear};
})();

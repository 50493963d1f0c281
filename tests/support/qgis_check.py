"""Run by Debian's python3 with python3-qgis (not by pytest): open a run's GeoPackage and its
project file in real QGIS, report what QGIS sees as JSON, and render the project to a PNG.

Usage: python3 qgis_check.py ANALYSE.gpkg ANALYSE.qgs OUT.png
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsExpression,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPalLayerSettings,
    QgsProject,
    QgsRenderContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def describe(layer) -> dict:
    renderer = layer.renderer()
    info = {"valid": layer.isValid(), "features": layer.featureCount(), "renderer": renderer.type()}
    fields = set(layer.fields().names())
    context = QgsRenderContext()
    context.setExpressionContext(layer.createExpressionContext())
    info["fields_used"] = sorted(renderer.usedAttributes(context))
    info["missing_fields"] = sorted(set(info["fields_used"]) - fields)
    if renderer.type() == "graduatedSymbol":
        info["attribute"] = renderer.classAttribute()
        info["colours"] = [r.symbol().color().name() for r in renderer.ranges()]
    elif renderer.type() == "singleSymbol":
        symbol_layer = renderer.symbol().symbolLayer(0)
        properties = symbol_layer.properties()
        info["style"] = properties.get("style")
        info["outline_color"] = symbol_layer.strokeColor().name()
        info["symbol_layer"] = symbol_layer.layerType()
        if symbol_layer.layerType() == "GeometryGenerator":  # a buffered source drawn as its zone
            info["geometry_expression"] = symbol_layer.geometryExpression()
    info["labels"] = layer.labelsEnabled()
    if layer.labelsEnabled():
        settings = QgsPalLayerSettings(layer.labeling().settings())
        info["label_expression"] = settings.fieldName
        expression = QgsExpression(settings.fieldName)
        # an expression over an array (array_foreach) refers to "all attributes" by this marker
        used = set(expression.referencedColumns()) - {"#!allattributes!#"}
        info["label_fields_missing"] = sorted(used - fields)
        feature = next(layer.getFeatures(), None)
        if feature is not None:  # what QGIS writes on the map for the first feature
            context = layer.createExpressionContext()
            context.setFeature(feature)
            info["label_sample"] = str(expression.evaluate(context))
            info["label_error"] = expression.evalErrorString()
    return info


def main(gpkg: str, qgs: str, png: str) -> None:
    app = QgsApplication([], False)
    app.initQgis()
    report = {"layers": {}, "project": {}}
    for name in ("stapeling", "schuurpunten", "kansen", "spanningsgebieden", "provincies"):
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")  # default style from layer_styles
        report["layers"][name] = describe(layer)
    project = QgsProject.instance()
    report["project"]["read"] = project.read(qgs)
    root = project.layerTreeRoot()
    report["project"]["groups"] = [group.name() for group in root.children()]
    report["project"]["layers"] = {
        group.name(): [child.name() for child in group.children()] for group in root.children()
    }
    report["project"]["crs"] = project.crs().authid()
    report["project"]["styled"] = {
        layer.name(): describe(layer)
        for layer in project.mapLayers().values()
        if isinstance(layer, QgsVectorLayer)
    }
    shown = root.checkedLayers()  # in legend order: the top one is drawn last
    offline = [layer for layer in shown if layer.providerType() != "wms"]
    settings = QgsMapSettings()
    settings.setLayers(offline)  # the PDOK basemap needs the network, which tests do not have
    settings.setDestinationCrs(project.crs())
    borders = next(layer for layer in offline if layer.name() == "Provinciegrenzen")
    settings.setExtent(borders.extent().buffered(borders.extent().width() * 0.02))
    settings.setOutputSize(QSize(1200, 900))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(png, "PNG")
    colours, dark = set(), 0
    for x in range(0, image.width(), 6):
        for y in range(0, image.height(), 6):
            colour = image.pixelColor(x, y)
            colours.add(colour.name())
            dark += colour.lightness() < 250
    samples = (image.width() // 6 + 1) * (image.height() // 6 + 1)
    report["render_extent"] = settings.visibleExtent().toString(0)
    report["render"] = {"distinct_colours": len(colours), "non_white_share": dark / samples}
    print(json.dumps(report), flush=True)
    os._exit(0)  # QGIS' own teardown can crash after the work is done


if __name__ == "__main__":
    main(*sys.argv[1:4])

"""The Dutch texts of the kaartsessie map's controls (kaart.js puts them in as text), and the
Draw tool's texts for ``L.drawLocal`` (leaflet-draw writes those as HTML; none is from data)."""

from __future__ import annotations

from novex_geo.variants import ADD, REMOVE

__all__ = ["DRAW_TEXT", "SKETCH_FILE", "UI", "VARIANTS_GROUP"]

SKETCH_FILE = "schets.geojson"
VARIANTS_GROUP = "Varianten"  # the layer panel's group of a comparison's situations

DRAW_TEXT = {
    "draw": {
        "toolbar": {
            "actions": {"title": "Tekenen annuleren", "text": "Annuleren"},
            "finish": {"title": "Tekenen afronden", "text": "Afronden"},
            "undo": {"title": "Laatst getekende punt verwijderen", "text": "Laatste punt verwijderen"},
            "buttons": {
                "polyline": "Teken een lijn",
                "polygon": "Teken een vlak",
                "rectangle": "Teken een rechthoek",
                "circle": "Teken een cirkel",
                "marker": "Zet een markering",
                "circlemarker": "Zet een cirkelmarkering",
            },
        },
        "handlers": {
            "circle": {"tooltip": {"start": "Klik en sleep om een cirkel te tekenen."}, "radius": "Straal"},
            "circlemarker": {"tooltip": {"start": "Klik op de kaart om een cirkelmarkering te zetten."}},
            "marker": {"tooltip": {"start": "Klik op de kaart om een markering te zetten."}},
            "polygon": {
                "tooltip": {
                    "start": "Klik om een vlak te beginnen.",
                    "cont": "Klik om het vlak verder te tekenen.",
                    "end": "Klik op het eerste punt om het vlak te sluiten.",
                }
            },
            "polyline": {
                "error": "<strong>Fout:</strong> de randen mogen elkaar niet kruisen!",
                "tooltip": {
                    "start": "Klik om een lijn te beginnen.",
                    "cont": "Klik om de lijn verder te tekenen.",
                    "end": "Klik op het laatste punt om de lijn af te ronden.",
                },
            },
            "rectangle": {"tooltip": {"start": "Klik en sleep om een rechthoek te tekenen."}},
            "simpleshape": {"tooltip": {"end": "Laat de muisknop los om af te ronden."}},
        },
    },
    "edit": {
        "toolbar": {
            "actions": {
                "save": {"title": "Wijzigingen bewaren", "text": "Bewaren"},
                "cancel": {"title": "Bewerken annuleren, alle wijzigingen vervallen", "text": "Annuleren"},
                "clearAll": {"title": "Alle schetsen wissen", "text": "Alles wissen"},
            },
            "buttons": {
                "edit": "Schetsen bewerken",
                "editDisabled": "Geen schetsen om te bewerken",
                "remove": "Schetsen verwijderen",
                "removeDisabled": "Geen schetsen om te verwijderen",
            },
        },
        "handlers": {
            "edit": {
                "tooltip": {
                    "text": "Sleep de hoekpunten om de schets te wijzigen.",
                    "subtext": "Klik op Annuleren om de wijzigingen ongedaan te maken.",
                }
            },
            "remove": {"tooltip": {"text": "Klik op een schets om die te verwijderen."}},
        },
    },
}

UI = {
    "layersTitle": "Lagen",
    "legendTitle": "Legenda",
    "fullscreen": ["Volledig scherm", "Volledig scherm verlaten"],
    "zoom": ["Inzoomen", "Uitzoomen"],
    "minimap": {"hideText": "Overzichtskaart verbergen", "showText": "Overzichtskaart tonen"},
    "basemapUnavailable": "Achtergrondkaart niet beschikbaar (geen verbinding met de kaartdienst); "
    "de lagen van de analyse staan er wel.",
    "sketch": {
        "label": "Sector:",
        "actionLabel": "Actie:",
        "actions": [
            {"key": ADD, "label": ADD},
            {"key": REMOVE, "label": REMOVE},
        ],
        "variantLabel": "Variant:",
        "variantDefault": "variant 1",
        "button": "Exporteer schets",
        "empty": "Nog niets getekend: teken eerst een vlak.",
        "saved": f"{{n}} vlak(ken) in {{v}} variant(en) opgeslagen als {SKETCH_FILE}",
        "filename": SKETCH_FILE,
    },
    # a click lists what lies under it: "Hier liggen 2 schuurpunten, 1 kans en 1 spanningsgebied"
    "pick": {
        "order": ["variant", "schuurpunt", "kans", "spanningsgebied"],
        "kinds": {
            "variant": ["onderdeel van een variant", "onderdelen van een variant"],
            "schuurpunt": ["schuurpunt", "schuurpunten"],
            "kans": ["kans", "kansen"],
            "spanningsgebied": ["spanningsgebied", "spanningsgebieden"],
        },
        "here": "Hier liggen",
        "and": "en",
        "more": "en nog {n} (zoom in om ze apart aan te klikken)",
        "limit": 25,
    },
    "draw": DRAW_TEXT,
    "exclusiveGroups": [VARIANTS_GROUP],
}

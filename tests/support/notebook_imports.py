"""Print the novex_geo imports of every notebook in a folder, as one Python script.

CI pipes this into the interpreter of a wheel installed outside the repository, so a module
the notebooks need but the wheel lacks is found before a user finds it.
"""

import json
import sys
from pathlib import Path


def imports(folder: Path) -> list[str]:
    lines = []
    for notebook in sorted(folder.glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                lines += [
                    line
                    for line in source.splitlines()
                    if line.startswith(("import ", "from ")) and "novex_geo" in line
                ]
    return list(dict.fromkeys(lines))


if __name__ == "__main__":
    print("\n".join([*imports(Path(sys.argv[1])), 'print("imports:", "ok")']))

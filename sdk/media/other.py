"""tracktui.Html, Text, Molecule and Plotly: documents stored as their bytes plus a little metadata. Audio,
Video and Object3D live in their own modules and are re-exported here."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from tracktui.store.codec import escape_surrogates
from tracktui.store.media import MAX_MEDIA_BYTES, too_big

from .audio import Audio
from .content import FileMedia, file_name, read_stream, source_bytes, with_caption
from .image import figure_of
from .object3d import Object3D, box3d
from .video import Video

__all__ = ["Audio", "Video", "Object3D", "box3d", "Html", "Text", "Molecule", "Plotly"]


def _text_bytes(text: str, what: str) -> bytes:
    """UTF-8 of a document; lone surrogates (undecodable bytes let through by surrogateescape) are stored as
    their escaped text, as log() stores them in strings."""
    data = escape_surrogates(text).encode("utf-8")
    if len(data) > MAX_MEDIA_BYTES:
        raise ValueError(too_big(what, len(data)))
    return data


class Html(FileMedia):
    """An HTML page: a string of HTML, the path of an existing .html file (unless data_is_not_path=True), or an
    open file / stream. As in wandb, a string that is not such a path is the HTML itself. `inject` is accepted
    for wandb's signature; nothing is added to the page."""

    _type = "html"

    def __init__(self, data: Any, inject: bool = True, data_is_not_path: bool = False):
        is_file_path = (not data_is_not_path and isinstance(data, (str, os.PathLike))
                        and os.path.splitext(os.fspath(data))[1] == ".html" and os.path.isfile(data))
        if is_file_path or file_name(data) is not None:
            raw, _ = source_bytes(data, "Html")
            text = raw.decode("utf-8", errors="replace")
        elif isinstance(data, str):
            text = data
        elif isinstance(data, (bytes, bytearray)):
            text = bytes(data).decode("utf-8", errors="replace")
        elif hasattr(data, "read"):
            text = read_stream(data, "Html").decode("utf-8", errors="replace")
        else:
            raise TypeError(f"tracktui.Html takes a string of HTML, a path or a file, not {type(data).__name__}")
        self.html = text
        self._data = _text_bytes(text, "the HTML")
        meta: dict[str, Any] = {"format": "html", "chars": len(text)}
        m = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        if m:
            meta["title"] = m.group(1).strip()[:200]
        self._meta = meta


class Text(FileMedia):
    """Markdown (or plain) text, shown as a document rather than a metric value."""

    _type = "text"

    def __init__(self, text: str, format: str = "markdown"):
        if not isinstance(text, str):
            raise TypeError(f"tracktui.Text takes a string, not {type(text).__name__}")
        if format not in ("markdown", "plain"):
            raise ValueError(f"tracktui.Text: format must be 'markdown' or 'plain', got {format!r}")
        self._data = _text_bytes(text, "the text")
        self._meta = {"format": format, "chars": len(text), "lines": text.count("\n") + 1}


MOLECULE_TYPES = ("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf")
RDKIT_TYPES = ("mol", "sdf")
RDKIT_HINT = "tracktui.Molecule.from_rdkit and from_smiles need RDKit: pip install rdkit"


class Molecule(FileMedia):
    """A molecule file (pdb, pqr, mmcif, mcif, cif, sdf, sd, gro, mol2, mmtf) stored as given: a path, an open
    file, or a stream with file_type=. Equal to another Molecule of the same bytes (as wandb)."""

    _type = "molecule"
    SUPPORTED_TYPES = MOLECULE_TYPES

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any):
        file_type = kwargs.pop("file_type", None)
        if kwargs:
            raise TypeError(f"tracktui.Molecule got unexpected arguments {sorted(kwargs)}")
        x = file_name(data_or_path) or data_or_path
        if isinstance(x, (str, os.PathLike)):
            fmt = os.path.splitext(os.fspath(x))[1].lstrip(".").lower()
            if fmt not in MOLECULE_TYPES:
                raise ValueError(f"tracktui.Molecule: a file must be one of {', '.join(MOLECULE_TYPES)}, "
                                 f"got {os.path.basename(os.fspath(x))!r}")
        elif hasattr(x, "read"):
            fmt = str(file_type or "").lower().lstrip(".")
            if fmt not in MOLECULE_TYPES:
                raise ValueError(f"tracktui.Molecule: a stream needs file_type= (one of {', '.join(MOLECULE_TYPES)})"
                                 f", got {file_type!r}")
        else:
            raise ValueError(f"tracktui.Molecule takes a file name or a file object, not {type(x).__name__}")
        data, _ = source_bytes(x, "Molecule")
        meta: dict[str, Any] = {"format": fmt}
        if fmt in ("pdb", "pqr"):
            meta["atoms"] = sum(1 for line in data.splitlines() if line.startswith((b"ATOM", b"HETATM")))
        self._data = data
        self._meta = with_caption(meta, caption)

    @classmethod
    def from_rdkit(cls, data_or_path: Any, caption: str | None = None, convert_to_3d_and_optimize: bool = True,
                   mmff_optimize_molecule_max_iterations: int = 200) -> Molecule:
        """A molecule from an rdkit Mol or a .mol/.sdf file, stored as PDB (3D coordinates embedded and
        optimised unless convert_to_3d_and_optimize=False), as wandb does."""
        try:
            from rdkit import Chem
            from rdkit.Chem import AllChem
        except ImportError as e:
            raise ImportError(RDKIT_HINT) from e
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            ext = os.path.splitext(path)[1].lstrip(".").lower()
            if ext not in RDKIT_TYPES:
                raise ValueError(f"tracktui.Molecule.from_rdkit: a file must be one of {', '.join(RDKIT_TYPES)}, "
                                 f"got {os.path.basename(path)!r}")
            if ext == "sdf":
                with Chem.SDMolSupplier(path) as supplier:
                    mol = next(iter(supplier))
            else:
                mol = Chem.MolFromMolFile(path)
            if mol is None:
                raise ValueError(f"tracktui.Molecule.from_rdkit: RDKit cannot read {os.path.basename(path)!r}")
        elif isinstance(data_or_path, Chem.rdchem.Mol):
            mol = data_or_path
        else:
            raise TypeError(f"tracktui.Molecule.from_rdkit takes a file name or an rdkit Mol, "
                            f"not {type(data_or_path).__name__}")
        if convert_to_3d_and_optimize:
            mol = Chem.AddHs(mol)
            AllChem.EmbedMolecule(mol)
            AllChem.MMFFOptimizeMolecule(mol, maxIters=mmff_optimize_molecule_max_iterations)
        import io

        return cls(io.StringIO(Chem.rdmolfiles.MolToPDBBlock(mol)), caption=caption, file_type="pdb")

    @classmethod
    def from_smiles(cls, data: str, caption: str | None = None, sanitize: bool = True,
                    convert_to_3d_and_optimize: bool = True,
                    mmff_optimize_molecule_max_iterations: int = 200) -> Molecule:
        """A molecule from a SMILES string (through RDKit); a ValueError when RDKit cannot parse it."""
        try:
            from rdkit import Chem
        except ImportError as e:
            raise ImportError(RDKIT_HINT) from e
        mol = Chem.MolFromSmiles(data, sanitize=sanitize)
        if mol is None:
            raise ValueError(f"tracktui.Molecule.from_smiles: RDKit cannot parse the SMILES string {data[:80]!r}")
        return cls.from_rdkit(mol, caption=caption, convert_to_3d_and_optimize=convert_to_3d_and_optimize,
                              mmff_optimize_molecule_max_iterations=mmff_optimize_molecule_max_iterations)


# ------------------------------------------------------------------ plotly and matplotlib figures


def is_plotly_figure(v: Any) -> bool:
    """A plotly Figure (or FigureWidget), known by its class without importing plotly."""
    return any(c.__module__.startswith("plotly.") and c.__name__ in ("Figure", "FigureWidget", "BaseFigure")
               for c in type(v).__mro__)


def matplotlib_has_images(v: Any) -> bool:
    """Whether a matplotlib figure (or pyplot's current one) shows an image (imshow), which plotly cannot
    take."""
    fig = figure_of(v)
    return any(len(getattr(ax, "images", ())) > 0 for ax in getattr(fig, "axes", ()))


def _plain_arrays(v: Any) -> Any:
    """JSON with plotly's base64 typed arrays ({"dtype", "bdata", "shape"}) turned into plain lists, as wandb
    stores figures (readable without plotly.js)."""
    if isinstance(v, dict):
        if "bdata" in v and "dtype" in v and set(v) <= {"bdata", "dtype", "shape"}:
            import base64

            import numpy as np

            a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
            if v.get("shape"):
                a = a.reshape([int(n) for n in str(v["shape"]).split(",")])
            return a.tolist()
        return {k: _plain_arrays(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain_arrays(x) for x in v]
    return v


class Plotly(FileMedia):
    """A plotly figure, stored as its JSON (plotly.io.to_json: data and layout), or a matplotlib figure turned
    into one by plotly's converter; a figure holding images raises ValueError (log it as tracktui.Image)."""

    _type = "plotly"

    def __init__(self, val: Any):
        fig = figure_of(val)
        if fig is not None:
            if matplotlib_has_images(fig):
                raise ValueError("tracktui.Plotly: plotly cannot take matplotlib figures that hold images; log "
                                 "the figure as tracktui.Image(fig) instead")
            try:
                import plotly.tools

                val = plotly.tools.mpl_to_plotly(fig)
            except ImportError as e:
                raise ImportError("tracktui.Plotly needs plotly: pip install plotly") from e
            except Exception as e:  # noqa: BLE001 - plotly's converter fails on many newer matplotlib features
                raise ValueError(f"tracktui.Plotly: plotly could not convert the matplotlib figure ({e}); log it "
                                 f"as tracktui.Image(fig) instead") from e
        if not is_plotly_figure(val):
            raise ValueError(f"tracktui.Plotly takes a plotly figure or a matplotlib figure, not "
                             f"{type(val).__name__}")
        text = json.dumps(_plain_arrays(json.loads(val.to_json())))
        self._data = _text_bytes(text, "the plotly figure")
        meta: dict[str, Any] = {"format": "json", "traces": len(val.data)}
        title = getattr(getattr(val.layout, "title", None), "text", None)
        if isinstance(title, str) and title:
            meta["title"] = title[:200]
        self._meta = meta

    @classmethod
    def make_plot_media(cls, val: Any) -> Any:
        """What wandb logs for a figure: a Plotly, or an Image for a matplotlib figure plotly cannot take."""
        fig = figure_of(val)
        if fig is not None:
            from .image import Image

            if matplotlib_has_images(fig):
                return Image(fig)
            try:
                return cls(fig)
            except (ValueError, ImportError):
                return Image(fig)
        return cls(val)

"""wandb's data-type behaviour, ported: what wandb's unit tests check of Histogram, Audio, Video, Object3D,
Table, Molecule, Html and Plotly, plus the store round trip through tracktui.Api that wandb checks as files."""

from __future__ import annotations

import io
import json
import struct
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tracktui as wandb
from PIL import Image as PILImage
from tracktui.media.audio import wav_info
from tracktui.media.video import mp4_info

# ---------------------------------------------------------------- Histogram


def test_histogram_bins_as_wandb() -> None:
    data = np.random.default_rng(0).integers(255, size=1000)
    assert len(wandb.Histogram(data).histogram) == 64
    assert len(wandb.Histogram(np_histogram=np.histogram(data)).histogram) == 10
    assert len(wandb.Histogram(np_histogram=([1, 2, 4], [0, 3, 10, 20])).histogram) == 3  # edges must rise here
    with pytest.raises(ValueError):
        wandb.Histogram(np_histogram=([1, 2, 3], [1]))


def test_histogram_equality_is_identity_as_in_wandb() -> None:
    a, b = wandb.Histogram([1, 2, 3]), wandb.Histogram([1, 2, 3])
    assert a == a and a != b  # wandb's Histogram inherits WBValue's identity comparison


# ---------------------------------------------------------------- Audio


def _wav(body: bytes, rate: int, code: int, bits: int, channels: int = 1) -> bytes:
    """A WAV file written by hand (PCM or IEEE float, with an extra LIST chunk), as other tools write them."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", code, channels, rate, rate * block, block, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"LIST" + struct.pack("<I", 4) + b"INFO"
    chunks += b"data" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def test_audio_sample_rates_durations_captions() -> None:
    a1, a2 = np.random.default_rng(1).uniform(-1, 1, (2, 44100))
    w1, w2 = wandb.Audio(a1, sample_rate=44100), wandb.Audio(np.r_[a2, a2], sample_rate=88200)
    assert wandb.Audio.sample_rates([w1, w2]) == [44100, 88200]
    assert wandb.Audio.durations([w1, wandb.Audio(np.r_[a2, a2], sample_rate=44100)]) == [1.0, 2.0]
    with pytest.raises(ValueError, match="sample_rate"):
        wandb.Audio(a1)
    dog, hen = "This is what a dog sounds like", "This is what a chicken sounds like"
    c1, c2 = wandb.Audio(a1, sample_rate=44100, caption=dog), wandb.Audio(a1, sample_rate=44100, caption=hen)
    assert wandb.Audio.captions([c1, c2]) == [dog, hen]
    assert wandb.Audio.captions([w1, w1]) is False
    assert wandb.Audio.captions([w1, c2]) == ["", hen]


def test_audio_equality_is_bytes_and_caption() -> None:
    x = np.zeros(4410, dtype=np.float32)
    assert wandb.Audio(x, sample_rate=44100) == wandb.Audio(x.copy(), sample_rate=44100)
    assert wandb.Audio(x, sample_rate=44100) != wandb.Audio(x, sample_rate=22050)
    assert wandb.Audio(x, sample_rate=44100, caption="a") != wandb.Audio(x, sample_rate=44100, caption="b")
    assert wandb.Audio(x, sample_rate=44100) != wandb.Video(np.zeros((1, 3, 2, 2), dtype=np.uint8))


def test_float32_and_24bit_wav_files_round_trip(run: Any, read: Any, tmp_path: Path) -> None:
    x = (np.sin(np.linspace(0, 40, 800)) * 0.5).astype("<f4")
    f32 = tmp_path / "f32.wav"
    f32.write_bytes(_wav(x.tobytes(), 8000, 3, 32))
    ints = np.array([[-(2**23), 2**23 - 1], [1, -1]], dtype=np.int32)  # two stereo frames of 24-bit PCM
    p24 = tmp_path / "p24.wav"
    p24.write_bytes(_wav(b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints.ravel()), 8000, 1, 24, 2))
    assert wav_info(p24.read_bytes())["samples"] == 2
    with open(f32, "rb") as opened:
        run.log({"f32": wandb.Audio(str(f32), caption="tone"), "p24": wandb.Audio(p24), "open": wandb.Audio(opened)})
    api = read(run)
    item = api.media("f32")[0]
    assert item.meta == {"format": "wav", "sample_rate": 8000, "channels": 1, "samples": 800, "duration": 0.1,
                         "sample_format": "float32", "caption": "tone"}
    assert item.bytes() == f32.read_bytes()  # stored as given
    samples = item.numpy()
    assert samples.dtype == np.float32 and np.array_equal(samples, x)
    assert np.array_equal(api.media("p24")[0].numpy() >> 8, ints)
    assert api.media("open")[0].meta["sample_format"] == "float32"


def test_audio_formats_through_soundfile(run: Any, read: Any, tmp_path: Path) -> None:
    sf = pytest.importorskip("soundfile", reason="FLAC/OGG metadata and decoding need the optional soundfile")
    x = (np.sin(np.linspace(0, 40, 1600)) * 0.5).astype(np.float32)
    sf.write(tmp_path / "a.flac", x, 16000)
    sf.write(tmp_path / "a.ogg", x, 16000)
    run.log({"flac": wandb.Audio(tmp_path / "a.flac"), "ogg": wandb.Audio((tmp_path / "a.ogg").read_bytes())})
    api = read(run)
    flac = api.media("flac")[0]
    assert (flac.meta["format"], flac.meta["sample_rate"], flac.meta["samples"]) == ("flac", 16000, 1600)
    assert flac.meta["duration"] == 0.1 and np.abs(flac.numpy() - x).max() < 1e-4
    assert api.media("ogg")[0].meta["format"] == "ogg" and api.media("ogg")[0].meta["sample_rate"] == 16000


def test_audio_without_soundfile_is_stored_and_says_what_is_missing(
    run: Any, read: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "soundfile", None)  # as if it were not installed
    flac = b"fLaC" + bytes(60)
    from tracktui import warn

    monkeypatch.setattr(warn, "_seen", set())
    with pytest.warns(wandb.TrackTuiWarning, match="pip install soundfile"):
        audio = wandb.Audio(flac)
    run.log({"flac": audio})
    item = read(run).media("flac")[0]
    assert item.meta == {"format": "flac"} and item.bytes() == flac
    with pytest.raises(ImportError, match="pip install soundfile"):
        item.numpy()


# ---------------------------------------------------------------- Video


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _mp4_header(width: int, height: int, frames: int, timescale: int, duration: int) -> bytes:
    """The boxes of an mp4 header that say its size, length and frame count (no media data)."""
    mvhd = _box(b"mvhd", bytes(12) + struct.pack(">II", timescale, duration) + bytes(80))
    tkhd = _box(b"tkhd", bytes(76) + struct.pack(">II", width << 16, height << 16))
    hdlr = _box(b"hdlr", bytes(8) + b"vide" + bytes(13))
    stsz = _box(b"stsz", bytes(8) + struct.pack(">I", frames))
    mdia = _box(b"mdia", hdlr + _box(b"minf", _box(b"stbl", stsz)))
    return _box(b"ftyp", b"isom\x00\x00\x02\x00isom") + _box(b"moov", mvhd + _box(b"trak", tkhd + mdia))


def test_video_int64_frames_as_gif(run: Any, read: Any) -> None:
    frames = np.random.default_rng(2).integers(255, size=(10, 3, 28, 28))  # int64, as wandb's test makes them
    run.log({"videos": wandb.Video(frames, format="gif")})
    item = read(run).media("videos")[0]
    assert item.meta["format"] == "gif" and item.meta["frames"] == 10
    gif = PILImage.open(io.BytesIO(item.bytes()))
    assert gif.n_frames == 10 and gif.size == (28, 28)


def test_video_batch_is_tiled_as_wandb(run: Any, read: Any) -> None:
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    batch = np.broadcast_to(colours[:, None, :, None, None], (3, 4, 3, 6, 5)).copy()  # B×T×C×H×W
    video = wandb.Video(batch, fps=2)  # 3 videos: padded to 4, 2**((3).bit_length()-1)//2) = 1 row of 4
    assert (video._meta["width"], video._meta["height"]) == (20, 6)
    assert wandb.Video(np.random.default_rng(3).random((2, 10, 3, 28, 28)))._meta["width"] == 56
    assert wandb.Video(np.zeros((4, 2, 3, 8, 8)))._meta["width"] == 16  # 4 videos: 2 × 2
    run.log({"batch": video})
    frame = np.asarray(PILImage.open(io.BytesIO(read(run).media("batch")[0].bytes())).convert("RGB"))
    assert [tuple(frame[3, 5 * i + 2]) for i in range(4)] == [(255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)]


def test_video_mp4_from_frames(run: Any, read: Any) -> None:
    pytest.importorskip("imageio_ffmpeg", reason="mp4 encoding needs the optional imageio and imageio-ffmpeg")
    pytest.importorskip("imageio", reason="mp4 encoding needs the optional imageio and imageio-ffmpeg")
    frames = np.random.default_rng(4).integers(255, size=(10, 3, 28, 28))
    run.log({"videos": wandb.Video(frames, format="mp4", fps=5)})
    item = read(run).media("videos")[0]
    data = item.bytes()
    assert item.meta["format"] == "mp4" and data[4:8] == b"ftyp"
    assert mp4_info(data) == {"duration": 2.0, "width": 28, "height": 28, "frames": 10, "fps": 5.0}


@pytest.mark.parametrize("fmt,magic", [("webm", b"\x1aE\xdf\xa3"), ("ogg", b"OggS")])
def test_video_webm_and_ogg_from_frames(run: Any, read: Any, fmt: str, magic: bytes) -> None:
    pytest.importorskip("imageio_ffmpeg", reason="webm/ogg encoding needs the optional imageio and imageio-ffmpeg")
    pytest.importorskip("imageio", reason="webm/ogg encoding needs the optional imageio and imageio-ffmpeg")
    frames = np.random.default_rng(4).integers(0, 256, size=(6, 9, 11, 3), dtype=np.uint8)  # odd sizes
    run.log({"v": wandb.Video(frames, format=fmt)})
    item = read(run).media("v")[0]
    assert item.meta["format"] == fmt and item.bytes()[:4] == magic  # encoded as asked, not the GIF fallback


def test_video_the_encoder_fails_on_the_writer_gif_is_stored(
    run: Any, read: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("imageio_ffmpeg", reason="mp4 encoding needs the optional imageio and imageio-ffmpeg")
    from tracktui.store import media as smedia

    monkeypatch.setitem(smedia.VIDEO_CODECS, "mp4", "no-such-codec")  # ffmpeg itself refuses
    run.log({"v": wandb.Video(np.zeros((3, 3, 8, 8), dtype=np.uint8), format="mp4")})
    item = read(run).media("v")[0]
    assert item.meta["format"] == "gif" and item.bytes()[:4] == b"GIF8"
    assert "stored as GIF instead" in caplog.text


def test_video_mp4_without_an_encoder_is_a_gif_with_one_warning(
    run: Any, read: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if it were not installed
    from tracktui import warn

    monkeypatch.setattr(warn, "_seen", set())
    frames = np.zeros((3, 3, 8, 8), dtype=np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        videos = [wandb.Video(frames, format="mp4") for _ in range(3)]
    messages = [str(w.message) for w in caught if issubclass(w.category, wandb.TrackTuiWarning)]
    assert len(messages) == 1 and "pip install imageio imageio-ffmpeg" in messages[0]
    run.log({"v": videos[0]})
    item = read(run).media("v")[0]
    assert item.meta["format"] == "gif" and item.bytes()[:4] == b"GIF8"


def test_video_files_and_streams(run: Any, read: Any, tmp_path: Path) -> None:
    (tmp_path / "video.mp4").write_text("00000")  # wandb's test: any bytes under a video name
    (tmp_path / "video.avi").write_text("00000")
    header = _mp4_header(640, 360, 90, 1000, 3000)
    (tmp_path / "clip.mp4").write_bytes(header)
    with pytest.raises(ValueError, match="gif, mp4, webm, ogg"):
        wandb.Video(str(tmp_path / "video.avi"))
    with pytest.raises(ValueError):
        wandb.Video(np.random.default_rng(5).random((3, 28, 28)))
    with pytest.raises(ValueError, match="format"):
        wandb.Video(io.BytesIO(header), format="mov")
    run.log({"path": wandb.Video(str(tmp_path / "video.mp4")), "clip": wandb.Video(tmp_path / "clip.mp4"),
             "stream": wandb.Video(io.BytesIO(header), format="mp4", caption="s")})
    api = read(run)
    assert api.media("path")[0].meta == {"format": "mp4"} and api.media("path")[0].bytes() == b"00000"
    assert api.media("clip")[0].meta == {"format": "mp4", "duration": 3.0, "width": 640, "height": 360,
                                          "frames": 90, "fps": 30.0}
    assert api.media("stream")[0].meta["caption"] == "s" and api.media("stream")[0].bytes() == header


def test_video_equality_is_the_bytes(tmp_path: Path) -> None:
    frames = np.random.default_rng(6).integers(0, 256, (4, 3, 8, 8), dtype=np.uint8)
    assert wandb.Video(frames) == wandb.Video(frames.copy()) and wandb.Video(frames) != wandb.Video(frames[:3])
    (tmp_path / "a.mp4").write_bytes(b"1234")
    assert wandb.Video(tmp_path / "a.mp4") == wandb.Video(io.BytesIO(b"1234"), format="mp4")


# ---------------------------------------------------------------- Object3D


POINTS = {
    "xyzc": np.array([[0, 0, 0, 1], [0, 0, 1, 13], [0, 1, 0, 2], [0, 1, 0, 4]]),
    "xyz": np.array([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 0]]),
    "xyzrgb": np.array([[0, 0, 0, 100, 100, 100], [0, 0, 1, 100, 100, 100], [0, 1, 0, 100, 100, 100]]),
}
CUBE_OBJ = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n"
BOX_GLTF = json.dumps({"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}]})
PTS_JSON = json.dumps([[0, 0, 0], [1, 1, 1], [2, 2, 2]])


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    (tmp_path / "cube.obj").write_text(CUBE_OBJ)
    (tmp_path / "Box.gltf").write_text(BOX_GLTF)
    (tmp_path / "point_cloud.pts.json").write_text(PTS_JSON)
    return tmp_path


@pytest.mark.parametrize("build", [wandb.Object3D, wandb.Object3D.from_numpy])
def test_object3d_from_numpy(run: Any, read: Any, build: Any) -> None:
    run.log({f"pc_{k}": build(v) for k, v in POINTS.items()})
    api = read(run)
    for k, v in POINTS.items():
        item = api.media(f"pc_{k}")[0]
        assert item.type == "object3d" and item.meta["point_count"] == len(v)
        assert np.array_equal(item.numpy(), v.astype(np.float32))


@pytest.mark.parametrize("bad", [[[1, 2, 3]], np.array([1]), np.array([[1, 2], [3, 4], [1, 2]]),
                                 np.array([1, 3, 4, 5, 6, 7, 8, 8, 3])])
def test_object3d_unsupported_numpy(bad: Any) -> None:
    with pytest.raises(ValueError):
        wandb.Object3D(bad)
    with pytest.raises(ValueError):
        wandb.Object3D.from_numpy(bad)


def test_object3d_scene_keeps_boxes_and_vectors(run: Any, read: Any) -> None:
    points = np.random.default_rng(7).uniform(-5, 5, size=(50, 3))
    boxes = np.array([
        {"corners": [[0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]],
         "label": "car", "color": [123, 321, 111], "score": 0.9},
        {"corners": [], "color": [0, 0, 0]},  # label and score are optional
    ])
    vectors = np.array([{"start": [0, 0, 0], "end": [0.1, 0.2, 0.5]}])
    run.log({"scene": wandb.Object3D({"type": "lidar/beta", "points": points, "boxes": boxes, "vectors": vectors}),
             "pc": wandb.Object3D.from_point_cloud(points=points.tolist(), boxes=boxes.tolist(), vectors=None),
             "empty": wandb.Object3D.from_point_cloud([], [], [], "lidar/beta"),
             "typed": wandb.Object3D({"type": "lidar/beta"})})
    api = read(run)
    item = api.media("scene")[0]
    assert item.meta == {"format": "pts.json", "type": "lidar/beta", "point_count": 50, "box_count": 2,
                         "vector_count": 1}
    scene = item.scene()
    assert scene["boxes"] == boxes.tolist() and scene["vectors"] == vectors.tolist()
    assert np.allclose(item.numpy(), points)
    assert api.media("pc")[0].scene()["boxes"][0]["label"] == "car"
    assert api.media("empty")[0].scene() == {"type": "lidar/beta", "points": [], "boxes": [], "vectors": []}
    assert api.media("typed")[0].meta["point_count"] == 0


def test_object3d_scene_errors() -> None:
    with pytest.raises(ValueError):
        wandb.Object3D.from_point_cloud([], [], [], "invalid point cloud type!")
    with pytest.raises(ValueError):
        wandb.Object3D({"type": "INVALID"})
    with pytest.raises(ValueError):
        wandb.Object3D("INVALID")
    with pytest.raises(ValueError, match="box 0"):
        wandb.Object3D.from_point_cloud([], boxes=[{"color": [0, 0, 0]}])


@pytest.mark.parametrize("name,fmt", [("cube.obj", "obj"), ("Box.gltf", "gltf"), ("point_cloud.pts.json", "pts.json")])
def test_object3d_open_files_paths_and_streams(run: Any, read: Any, assets: Path, name: str, fmt: str) -> None:
    with open(assets / name) as opened:
        from_open = wandb.Object3D(opened)  # the format from the file's name, as wandb
    with open(assets / name) as opened:
        from_stream = wandb.Object3D(io.StringIO(opened.read()), file_type=fmt)
    with open(assets / name) as opened:
        from_file = wandb.Object3D.from_file(opened)
    run.log({"open": from_open, "path": wandb.Object3D.from_file(str(assets / name)), "stream": from_stream,
             "from_file": from_file})
    api = read(run)
    for key in ("open", "path", "stream", "from_file"):
        item = api.media(key)[0]
        assert item.meta["format"] == fmt and item.bytes() == (assets / name).read_bytes(), key
    assert from_open == from_stream  # the same bytes


def test_object3d_stream_needs_a_supported_file_type(assets: Path) -> None:
    with pytest.raises(ValueError):
        wandb.Object3D.from_file(io.StringIO("some text"))
    with pytest.raises(ValueError):
        wandb.Object3D(io.StringIO(BOX_GLTF))
    with pytest.raises(ValueError):
        wandb.Object3D(io.StringIO(BOX_GLTF), file_type="xyz")
    assert wandb.Object3D(io.StringIO(BOX_GLTF), file_type="obj")._meta["format"] == "obj"  # as wandb: as told


def test_object3d_gallery_of_mixed_sources(run: Any, read: Any, assets: Path) -> None:
    objects = [wandb.Object3D(POINTS["xyzc"])]
    with open(assets / "Box.gltf") as f:
        objects.append(wandb.Object3D(f))
    with open(assets / "cube.obj") as f:
        objects.append(wandb.Object3D(f, caption="cube"))
    run.log({"pc": objects})
    api = read(run)
    items = api.media("pc")
    assert [i.meta["format"] for i in items] == ["points", "gltf", "obj"] and items[2].caption == "cube"
    assert api.history()[0]["pc"]["count"] == 3 and api.history()[0]["pc"]["captions"] == [None, None, "cube"]


def test_box3d_corners() -> None:
    box = wandb.box3d(center=(1, 2, 3), size=(2, 4, 6), orientation=(1, 0, 0, 0), color=(0.5, 0.5, 0.5),
                      label="b", score=0.9)
    corners = np.array(box["corners"])
    assert corners.shape == (8, 3) and box["label"] == "b" and box["score"] == 0.9
    assert np.allclose(corners.min(0), [0, 0, 0]) and np.allclose(corners.max(0), [2, 4, 6])
    turned = np.array(wandb.box3d(center=(0, 0, 0), size=(2, 4, 6), orientation=(np.sqrt(0.5), 0, 0, np.sqrt(0.5)),
                                  color=(1, 1, 1))["corners"])
    assert np.allclose(np.abs(turned).max(0), [2, 1, 3])  # a quarter turn about z swaps x and y extents
    wandb.Object3D.from_point_cloud(points=np.zeros((2, 3)), boxes=[box])


# ---------------------------------------------------------------- Table


TABLE_DATA = [["a", 1, True], ["b", 2, False], ["c", 3, True]]


def test_table_default_columns() -> None:
    table = wandb.Table()
    table.add_data("Some awesome text", "Positive", "Negative")
    assert table.columns == ["Input", "Output", "Expected"]
    assert table.data == [["Some awesome text", "Positive", "Negative"]]
    assert wandb.Table(data=[["Some awesome text", "Positive", "Negative"]]).columns == ["Input", "Output", "Expected"]
    with pytest.raises(ValueError, match="columns="):
        wandb.Table(data=[[1, 2]])


@pytest.mark.parametrize("a,b", [
    (wandb.Table(data=[[1, 2, 3], [4, 5, 6]]), {}),
    (wandb.Table(data=[[1, 2, 3], [4, 5, 6]]), wandb.Table(data=[[1, 2, 3]])),
    (wandb.Table(data=[[1, 2, 3], [4, 5, 6]]), wandb.Table(data=[[1, 2, 3], [4, 5, 6]], columns=["a", "b", "c"])),
    (wandb.Table(data=[[1, 2, 3]]), wandb.Table(data=[["1", "2", "3"]])),
    (wandb.Table(data=[[1, 2, 3], [4, 5, 6]]), wandb.Table(data=[[1, 2, 3], [4, 5, 100]])),
], ids=["type", "rows", "columns", "cell types", "data"])
def test_table_eq_mismatch(a: Any, b: Any) -> None:
    with pytest.raises(AssertionError):
        a._eq_debug(b, True)
    assert a != b and not a == b


def test_table_eq_match() -> None:
    a = wandb.Table(data=[[1, 2, 3], [4, 5, float("nan")]])
    b = wandb.Table(data=[[1, 2, 3], [4, 5, float("nan")]])
    a._eq_debug(b, True)
    assert a == b


def test_table_custom_columns_and_add_row() -> None:
    table = wandb.Table(["Foo", "Bar"])
    table.add_data("So", "Cool")
    table.add_row("&", "Rad")
    assert table.columns == ["Foo", "Bar"] and table.data == [["So", "Cool"], ["&", "Rad"]]


def test_table_from_list_numpy_and_rows() -> None:
    assert wandb.Table(data=TABLE_DATA).data == TABLE_DATA
    assert wandb.Table(rows=TABLE_DATA).data == TABLE_DATA
    with pytest.raises(TypeError):
        wandb.Table(TABLE_DATA)  # rows given as columns
    with pytest.raises(TypeError):
        wandb.Table(dataframe=TABLE_DATA)
    arr = np.array(TABLE_DATA)
    assert wandb.Table(data=arr).data == arr.tolist()
    with pytest.raises(TypeError):
        wandb.Table(arr)


def test_table_from_pandas(run: Any, read: Any) -> None:
    pd = pytest.importorskip("pandas", reason="DataFrame tables need the optional pandas")
    frame = pd.DataFrame(TABLE_DATA)
    assert wandb.Table(data=frame).data == TABLE_DATA and wandb.Table(dataframe=frame).data == TABLE_DATA
    assert wandb.Table(data=frame).columns == [0, 1, 2]
    named = pd.DataFrame({"when": pd.to_datetime(["2024-01-02", None]), "n": [1.5, None], "s": ["x", None]})
    table = wandb.Table(dataframe=named)
    assert table.data[0][0] == "2024-01-02T00:00:00" and table.data[1][0] is None
    run.log({"df": table, "plain": wandb.Table(data=frame)})
    api = read(run)
    out = api.table("df", pandas=True)
    assert list(out.columns) == ["when", "n", "s"] and out["s"].tolist()[0] == "x"
    assert api.table("plain") == [{"0": "a", "1": 1, "2": True}, {"0": "b", "1": 2, "2": False},
                                  {"0": "c", "1": 3, "2": True}]
    assert wandb.Table(dataframe=frame).get_dataframe().values.tolist() == TABLE_DATA


def test_table_iterrows() -> None:
    table = wandb.Table(data=TABLE_DATA)
    assert [(i, row) for i, row in table.iterrows()] == list(enumerate(TABLE_DATA))
    assert list(wandb.Table(data=[]).iterrows()) == []


def test_table_columns_grow_and_convert() -> None:
    table = wandb.Table(columns=[], data=[])
    table.add_column("number", [1, 2, 3])
    table.add_data(4)
    with pytest.raises(ValueError):
        table.add_column("strings", ["a"])
    table.add_column("strings", ["a", "b", "c", "d"])
    table.add_data(5, "e")
    table.add_column("np_numbers", np.array([101, 102, 103, 104, 105]))
    assert table.data == [[1, "a", 101], [2, "b", 102], [3, "c", 103], [4, "d", 104], [5, "e", 105]]
    assert table.get_column("np_numbers") == [101, 102, 103, 104, 105]
    assert np.array_equal(table.get_column("number", convert_to="numpy"), np.array([1, 2, 3, 4, 5]))
    assert np.array_equal(table.get_column("strings", convert_to="numpy"), np.array(["a", "b", "c", "d", "e"]))
    assert table.get_index() == [0, 1, 2, 3, 4]
    pixels = [np.random.default_rng(i).integers(256, size=(2, 2, 3), dtype=np.uint8) for i in range(3)]
    images = wandb.Table(columns=[], data=[])
    images.add_column("np_data", pixels[:2])
    images.add_column("image", [wandb.Image(p) for p in pixels[:2]])
    images.add_data(pixels[2], wandb.Image(pixels[2]))
    assert np.array_equal(images.get_column("np_data", convert_to="numpy"), np.array(pixels))
    assert np.array_equal(images.get_column("image", convert_to="numpy"), np.array(pixels))


def test_table_computed_columns_and_casts() -> None:
    table = wandb.Table(columns=["x", "y"], data=[[3, 1], [4, 6]])
    table.add_computed_columns(lambda ndx, row: {"diff": row["x"] - row["y"], "i": ndx})
    assert table.columns == ["x", "y", "diff", "i"] and table.get_column("diff") == [2, -2]
    table.cast("x", int)
    table.add_data(1.5, 0, 0, 2)  # int and float are both numbers
    with pytest.raises(TypeError, match="column 'x'"):
        table.add_data("7", 0, 0, 3)
    with pytest.raises(TypeError):
        table.add_data(None, 0, 0, 3)
    with pytest.raises(TypeError):
        table.cast("x", str)  # the data holds numbers
    typed = wandb.Table(columns=["name", "score"], dtype=[str, float], optional=[False, True])
    typed.add_data("a", None)
    with pytest.raises(TypeError):
        typed.add_data(None, 1.0)
    assert wandb.Table(columns=["a"], dtype=[str], allow_mixed_types=True, data=[[1], ["x"]]).data == [[1], ["x"]]


def test_table_cells_hold_arrays_lists_and_media(run: Any, read: Any) -> None:
    table = wandb.Table(columns=["ndarray", "list", "dict", "audio", "video", "cloud", "hist"],
                        data=np.empty((0, 7)))
    rng = np.random.default_rng(8)
    for i in range(3):
        table.add_data(rng.integers(255, size=(2, 2)), [i, [i]], {"k": i},
                       wandb.Audio(np.zeros(100), sample_rate=1000, caption=f"a{i}"),
                       wandb.Video(np.full((2, 3, 4, 4), i * 50, dtype=np.uint8)),
                       wandb.Object3D(POINTS["xyz"]), wandb.Histogram([1, 2, 2, 3], num_bins=3))
    with pytest.raises(TypeError):
        table.add_data(object(), [], {}, None, None, None, None)
    with pytest.raises(TypeError):
        table.add_data(None, [], {}, wandb.Table(), None, None, None)
    run.log({"t": table})
    rows = read(run).table("t")
    assert rows[1]["ndarray"] == table.data[1][0] and rows[2]["list"] == [2, [2]] and rows[0]["dict"] == {"k": 0}
    assert rows[1]["audio"].type == "audio" and rows[1]["audio"].caption == "a1"
    assert rows[1]["audio"].numpy().shape == (100,)
    assert rows[2]["video"].type == "video" and rows[2]["video"].bytes()[:4] == b"GIF8"
    assert np.array_equal(rows[0]["cloud"].numpy(), POINTS["xyz"].astype(np.float32))
    assert rows[0]["hist"].type == "histogram" and rows[0]["hist"].counts == [1, 2, 1]


# ---------------------------------------------------------------- Molecule, Html, Plotly


PDB = "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n" \
      "HETATM    2  O   HOH A   2      12.000   7.000  -7.000  1.00  0.00           O\nEND\n"


def test_molecule_files_and_streams(run: Any, read: Any, tmp_path: Path) -> None:
    (tmp_path / "test.pdb").write_text(PDB)
    (tmp_path / "test.xyz").write_text(PDB)
    with open(tmp_path / "test.pdb") as f:
        opened = wandb.Molecule(f, caption="water")
    run.log({"path": wandb.Molecule(str(tmp_path / "test.pdb")), "open": opened,
             "stream": wandb.Molecule(io.StringIO(PDB), file_type="pdb")})
    with pytest.raises(ValueError):
        wandb.Molecule(str(tmp_path / "test.xyz"))
    with pytest.raises(ValueError):
        wandb.Molecule(io.StringIO(PDB))
    api = read(run)
    for key in ("path", "open", "stream"):
        item = api.media(key)[0]
        assert item.type == "molecule" and item.meta["format"] == "pdb" and item.meta["atoms"] == 2
        assert item.text() == PDB
    assert api.media("open")[0].caption == "water" and opened == wandb.Molecule(io.StringIO(PDB), file_type="pdb")


def test_molecule_from_smiles() -> None:
    pytest.importorskip("rdkit", reason="Molecule.from_smiles needs the optional rdkit")
    mol = wandb.Molecule.from_smiles("CC(=O)Nc1ccc(O)cc1")
    assert mol._meta["format"] == "pdb" and mol._meta["atoms"] > 10
    with pytest.raises(ValueError):
        wandb.Molecule.from_smiles("TEST")


def test_html_as_wandb_reads_it(run: Any, read: Any, tmp_path: Path) -> None:
    page = "<html><head><title>Hi</title></head><body><h1>Hello</h1></body></html>"
    (tmp_path / "index.html").write_text(page)
    (tmp_path / "index.txt").write_text(page)
    html = wandb.Html(page)
    assert html == wandb.Html(page) and html != wandb.Html(page + " ") and html.html == page
    with open(tmp_path / "index.html") as f:
        opened = wandb.Html(f)
    run.log({"str": html, "path": wandb.Html(str(tmp_path / "index.html"), inject=False), "open": opened,
             "stream": wandb.Html(io.StringIO(page)), "dir": wandb.Html(str(tmp_path)),
             "txt": wandb.Html(str(tmp_path / "index.txt")),
             "literal": wandb.Html(str(tmp_path / "index.html"), data_is_not_path=True)})
    api = read(run)
    for key in ("str", "path", "open", "stream"):
        assert api.media(key)[0].text() == page and api.media(key)[0].meta["title"] == "Hi", key
    assert api.media("dir")[0].text() == str(tmp_path)  # not a .html file: the string is the page, as wandb
    assert api.media("txt")[0].text() == str(tmp_path / "index.txt")
    assert api.media("literal")[0].text() == str(tmp_path / "index.html")


def test_plotly_figures(run: Any, read: Any) -> None:
    go = pytest.importorskip("plotly.graph_objects", reason="plotly figures need the optional plotly")
    fig = go.Figure(go.Scatter(x=np.arange(5), y=np.arange(5) ** 2, name="sq"), layout={"title": {"text": "T"}})
    fig.add_heatmap(z=np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError):
        wandb.Plotly([1, 2, 3])
    assert wandb.Plotly(fig) == wandb.Plotly(fig)
    assert type(wandb.Plotly.make_plot_media(fig)) is wandb.Plotly
    run.log({"wrapped": wandb.Plotly(fig), "direct": fig})
    api = read(run)
    for key in ("wrapped", "direct"):
        item = api.media(key)[0]
        assert item.type == "plotly" and item.meta == {"format": "json", "traces": 2, "title": "T"}
        assert item.json()["data"][0]["y"] == [0, 1, 4, 9, 16]  # plain lists, as wandb stores figures
        assert item.json()["data"][1]["z"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
        back = item.figure()
        assert list(back.data[0].y) == [0, 1, 4, 9, 16] and back.layout.title.text == "T"
    assert api.history()[0]["direct"]["_type"] == "plotly"


def test_matplotlib_figures(run: Any, read: Any) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib figures need the optional matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2)
    ax[0].plot([1, 2, 3])
    ax[1].imshow(np.random.default_rng(9).random((20, 20, 3)))
    with pytest.raises(ValueError):
        wandb.Plotly(fig)  # plotly cannot take images, as in wandb
    assert type(wandb.Plotly.make_plot_media(fig)) is wandb.Image
    run.log({"fig": fig, "plt": plt})  # logged directly: kept as a picture the terminal can show
    assert [(k["key"], k["type"]) for k in read(run).media_keys()] == [("fig", "image"), ("plt", "image")]
    plt.close("all")

"""Every ffmpeg command builder, checked on its arguments alone: no process is started here."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from storyboard.errors import MediaError
from storyboard.media import assemble, clips, ffmpeg as media_ffmpeg
from storyboard.media.ffmpeg import Command, ConcatEntry, FfmpegFailed, Script, concat_script
from storyboard.stages.timeline import build

FPS = 24
X = Path("/x")


def flat(cmd: Command) -> list[str]:
    """The arguments with each script shown as <name>, as the argv names its file."""
    return [f"<{a.name}>" if isinstance(a, Script) else a for a in cmd.args]


def value(cmd: Command, option: str) -> str:
    args = flat(cmd)
    return args[args.index(option) + 1]


def inputs(cmd: Command) -> list[str]:
    args = flat(cmd)
    return [args[i + 1] for i, a in enumerate(args) if a == "-i"]


def assert_graph_by_file(cmd: Command) -> None:
    """The filter graph travels as a script, never as an argument; every file input reads files only."""
    args = flat(cmd)
    assert "-filter_complex" not in args and "-filter_complex_script" not in args
    assert "<graph.txt>" in args and args[args.index("<graph.txt>") - 1] == "-/filter_complex"
    for i, a in enumerate(args):
        if a == "-i" and args[i + 1].startswith("/"):
            before = args[:i]
            assert "-protocol_whitelist" in before, args[i + 1]
    assert max(len(a) for a in args) < 1024  # nothing long rides in argv


# -- single clips ---------------------------------------------------------------------------------

def test_animatic_cmd_escapes_expressions_and_keeps_the_house_format():
    from storyboard.animatic import camera
    rig = camera.rig("handheld", 48, 1280, 720, FPS)
    layers = [camera.Layer(X / "hud.rgba", 2, 4, size=(1280, 200)),
              camera.Layer(X / "it's, [odd]; name.png", 0, 100, camera.between(0.5, 1.5))]
    cmd = camera.animatic_cmd(camera.Layer(X / "world.rgb", size=(1356, 760), pix_fmt="rgb24"), rig, X / "sound.pcm",
                              X / "clip.mp4", 1280, 720, FPS, 48, text_layers=layers,
                              opening=camera.Layer(X / "prev.rgb", size=(1280, 720), pix_fmt="rgb24"))
    assert_graph_by_file(cmd)
    assert inputs(cmd) == ["/x/world.rgb", "/x/prev.rgb", "/x/hud.rgba", "/x/it's, [odd]; name.png", "/x/sound.pcm"]
    world = flat(cmd)[:flat(cmd).index("/x/world.rgb")]  # drawn pixels, raw: nothing to compress or decode
    opt = lambda o: world[world.index(o) + 1]  # noqa: E731
    assert (opt("-f"), opt("-pix_fmt"), opt("-s")) == ("rawvideo", "rgb24", "1356x760")
    graph = cmd.script()
    # commas inside an option value are escaped for the graph parser; the file names never enter the graph
    assert "between(t\\,0.500\\,1.500)" in graph and "lt(n" not in graph  # text stays to the last frame
    assert "odd" not in graph and "loop=loop=47:size=1:start=0" in graph
    # the previous shot's picture is read once and held for the dissolve's 12 frames, not decoded per frame
    assert "loop=loop=11:size=1:start=0" in graph and "-loop" not in flat(cmd)
    assert value(cmd, "-filter_complex_threads") == "1" and value(cmd, "-qp") == "23" and "-crf" not in flat(cmd)
    assert value(cmd, "-g") == "24" and value(cmd, "-bf") == "0" and value(cmd, "-sc_threshold") == "0"
    out_opts = flat(cmd)[flat(cmd).index("/x/sound.pcm") + 1:]  # the output's options (the opening has its own -t)
    assert out_opts[out_opts.index("-t") + 1] == "2.000000"
    assert value(cmd, "-frames:v") == "48" and value(cmd, "-threads") == "1"
    assert value(cmd, "-c:a") == "aac" and value(cmd, "-ar") == "48000"
    assert flat(cmd)[-1] == "/x/clip.mp4"
    assert cmd.timeout == media_ffmpeg.timeout_for(2.0, "encode")


def test_a_picture_is_fitted_to_the_frame_letterboxed_and_turned_as_its_exif_says(tmp_path):
    from PIL import Image
    tall = Image.new("RGB", (100, 200), (250, 0, 0))  # stored upright 100x200, shown turned a quarter (EXIF 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    tall.save(tmp_path / "phone.jpg", exif=exif)
    out = clips.fit_image(tmp_path / "phone.jpg", tmp_path / "first.png", 320, 180)
    with Image.open(out) as im:
        assert im.size == (320, 180) and im.mode == "RGB"
        # shown 200x100: scaled to 320x160, centred, black bars of 10 above and below
        assert im.getpixel((160, 5)) == (0, 0, 0) and im.getpixel((160, 174)) == (0, 0, 0)
        r, g, b = im.getpixel((160, 90))
        assert r > 200 and g < 40 and b < 40 and im.getpixel((2, 90))[0] > 200
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    with pytest.raises(MediaError, match="broken.png: cannot read the picture"):
        clips.fit_image(tmp_path / "broken.png", tmp_path / "x.png", 320, 180)


def test_conform_cmd_with_and_without_sound():
    cmd = assemble.conform_cmd(X / "in.mov", X / "out.mp4", 320, 180, FPS, 48, has_audio=True)
    assert_graph_by_file(cmd)
    g = cmd.script()
    assert "fps=fps=24" in g and "trim=end_frame=48" in g and "tpad=stop=48:stop_mode=clone" in g
    assert "atrim=end_sample=96000" in g  # exactly the picture's length, in samples
    assert inputs(cmd) == ["/x/in.mov"]
    silent = assemble.conform_cmd(X / "in.mov", X / "out.mp4", 320, 180, FPS, 48, has_audio=False)
    assert inputs(silent) == ["/x/in.mov", "anullsrc=r=48000:cl=stereo"]
    assert value(silent, "-f") == "lavfi"


def test_slate_cmd():
    cmd = assemble.slate_cmd(X / "slate.png", X / "slate.mp4", FPS, 60)
    assert "-loop" not in flat(cmd)  # the picture is read and decoded once, then repeated in the graph
    assert "loop=loop=59:size=1:start=0" in cmd.script() and "setpts=N/(24*TB)" in cmd.script()
    assert value(cmd, "-frames:v") == "60" and value(cmd, "-t") == "2.500000"


# -- the picture ----------------------------------------------------------------------------------

def test_encoded_piece_seeks_to_the_key_frame_before_it():
    p = assemble.Piece("encode", 0, 180, 192, fade_out=12)
    cmd = assemble.piece_cmd(p, [X / "a.mp4"], X / "p.mp4", FPS, {0: list(range(0, 192, 24))})
    assert value(cmd, "-ss") == "7.000000"  # key frame 168: decoding starts there, not at 0
    g = cmd.script()
    assert "trim=end_frame=24:start_frame=12" in g and "fade=nb_frames=12:start_frame=0:t=out" in g
    assert value(cmd, "-frames:v") == "12" and "-an" in flat(cmd)


def test_seek_point_rounds_down_so_the_key_frame_is_kept():
    p = assemble.Piece("encode", 0, 31, 40)
    cmd = assemble.piece_cmd(p, [X / "a.mp4"], X / "p.mp4", FPS, {0: [0, 31]})
    assert value(cmd, "-ss") == "1.291666"  # 31/24 = 1.2916666...: rounded up it would drop frame 31


def test_xfade_piece():
    p = assemble.Piece("xfade", 0, 168, 192, transition="fade", frames=24)
    cmd = assemble.piece_cmd(p, [X / "a.mp4", X / "b.mp4"], X / "p.mp4", FPS, {0: list(range(0, 192, 24))})
    assert inputs(cmd) == ["/x/a.mp4", "/x/b.mp4"]
    assert "xfade=duration=1.000000:offset=0:transition=fade" in cmd.script()
    assert value(cmd, "-frames:v") == "24"


def test_picture_list_cuts_sources_at_key_frames_on_the_frame_grid():
    tl = build([("a", 8.0, "dissolve", 1), ("b", 8.0, "cut", 0)], FPS, 320, 180)
    pieces = assemble.plan_pieces(tl, {0: list(range(0, 192, 24)), 1: list(range(0, 192, 24))})
    encoded = {k: X / f"piece{k}.mp4" for k, p in enumerate(pieces) if p.kind != "copy"}
    listing = assemble.picture_list(pieces, [X / "a.mp4", X / "it's b.mp4"], encoded, FPS)
    assert listing.text.splitlines() == [
        "ffconcat version 1.0",
        "file '/x/a.mp4'", "inpoint 0us", "outpoint 7000000us", "duration 7000000us",
        "file '/x/piece1.mp4'", "inpoint 0us", "outpoint 1000000us", "duration 1000000us",
        "file '/x/it'\\''s b.mp4'", "inpoint 1000000us", "outpoint 8000000us", "duration 7000000us",
    ]
    cmd = assemble.concat_cmd(listing, X / "picture.mp4", 15.0)
    args = flat(cmd)
    assert args[:args.index("-i") + 2] == ["-f", "concat", "-protocol_whitelist", "file", "-safe", "0",
                                          "-i", "<picture.txt>"]
    assert value(cmd, "-c:v") == "copy" and "-an" in args
    assert cmd.timeout == media_ffmpeg.timeout_for(15.0, "copy")


def test_picture_list_durations_do_not_drift_off_the_grid():
    """At 24 fps a frame is 41666.67 us: each entry's duration comes from the cut's frame grid,
    so after any number of entries the running total is the grid time rounded, never the sum of
    rounded lengths."""
    tl = build([(f"s{i}", 1.625, "cut", 0) for i in range(300)], FPS, 320, 180)  # 39 frames each
    pieces = assemble.plan_pieces(tl, {})
    encoded = {k: X / f"p{k}.mp4" for k in range(len(pieces))}
    durations = [int(line.split()[1][:-2]) for line in assemble.picture_list(pieces, [X / "s"] * 300, encoded, FPS)
                 .text.splitlines() if line.startswith("duration")]
    assert sum(durations) == 300 * 39 * 1_000_000 // 24


def test_concat_script_escapes_and_refuses_line_breaks():
    s = concat_script([ConcatEntry(Path("/a/b c/it's.mp4"), inpoint=41667)])
    assert s.text == "ffconcat version 1.0\nfile '/a/b c/it'\\''s.mp4'\ninpoint 41667us\n"
    with pytest.raises(MediaError, match="line break"):
        concat_script([ConcatEntry(Path("/a/b\nc.mp4"))])
    assert concat_script([ConcatEntry(Path("rel.mp4"))]).text.splitlines()[1].startswith("file '/")  # absolute


# -- the sound ------------------------------------------------------------------------------------

def test_chunks_bound_the_inputs_and_tile_the_film_exactly():
    shots = [(f"s{i}", 2.0, "dissolve" if i % 3 == 0 else "cut", 0.5) for i in range(2000)]
    tl = build(shots, FPS, 320, 180)
    chunks = assemble.plan_chunks(tl)
    assert max(len(c.shots) for c in chunks) <= assemble.MAX_INPUTS
    assert chunks[0].start == 0 and chunks[-1].end == assemble.samples(tl.total_frames, FPS)
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:]))  # back to back: no gap, no overlap
    heard = set()
    for c in chunks:  # every shot is in every window it sounds in
        for i, sp in enumerate(tl.spans):
            s0, s1 = assemble.samples(sp.start, FPS), assemble.samples(sp.start + sp.length, FPS)
            if s0 < c.end and s1 > c.start:
                assert i in c.shots
                heard.add(i)
    assert heard == set(range(2000))
    # each chunk's command stays small whatever the film's length
    sources = [X / f"s{i}.mp4" for i in range(2000)]
    cmds = [assemble.chunk_cmd(tl, c, sources) for c in chunks[:3]]
    for cmd in cmds:
        assert_graph_by_file(cmd)
        assert sum(len(a) for a in flat(cmd)) < 8000


def test_chunk_places_each_shot_to_the_sample():
    tl = build([("a", 2.0, "fade", 1), ("b", 2.0, "dissolve", 0.5), ("c", 2.0, "cut", 0)], FPS, 320, 180)
    (chunk,) = assemble.plan_chunks(tl)
    cmd = assemble.chunk_cmd(tl, chunk, [X / "a.mp4", X / "b.mp4", X / "c.mp4"])
    g = cmd.script()
    assert "afade=curve=qsin:ns=24000:ss=72000:t=out" in g  # a: out over the first half of the fade
    assert "apad=whole_len=96000" in g  # a lasts until b starts, at 2 s: b follows it in one layer
    assert "afade=curve=qsin:ns=24000:ss=0:t=in" in g  # b: in from black over half the fade
    assert "afade=curve=qsin:ns=24000:ss=72000:t=out" in g
    assert "adelay=all=1:delays=168000S" in g  # c starts inside b's dissolve, at 3.5 s: a second layer
    assert "concat=a=1:n=2:v=0" in g  # a then b
    assert "amix=duration=longest:inputs=2:normalize=0" in g and "atrim=end_sample=264000" in g
    assert g.count("adelay") == 1  # nothing else is laid over silence
    assert value(cmd, "-f") == "f32le" and flat(cmd)[-1] == "pipe:1"


def test_a_shot_reaching_into_a_window_is_trimmed_not_delayed():
    shots = [(f"s{i}", 2.0, "dissolve", 1.0) for i in range(6)]
    tl = build(shots, FPS, 320, 180)
    chunks = assemble.plan_chunks(tl, max_inputs=4)  # two own shots per window, plus one reaching in
    assert [c.shots for c in chunks] == [(0, 1), (1, 2, 3), (3, 4, 5)]
    g = assemble.chunk_cmd(tl, chunks[1], [X / f"{i}.mp4" for i in range(6)]).script()
    assert "atrim=start_sample=48000" in g  # shot 1's last second is heard at the window's start


def test_hard_cuts_are_one_layer_and_dissolves_two():
    tl = build([(f"s{i}", 2.0, "cut", 0) for i in range(5)], FPS, 320, 180)
    (chunk,) = assemble.plan_chunks(tl)
    assert assemble.plan_layers(tl, chunk) == [[0, 1, 2, 3, 4]]
    assert "amix" not in assemble.chunk_cmd(tl, chunk, [X / f"{i}.mp4" for i in range(5)]).script()
    tl = build([(f"s{i}", 2.0, "dissolve" if i % 2 == 0 else "cut", 0.5) for i in range(5)], FPS, 320, 180)
    (chunk,) = assemble.plan_chunks(tl)
    assert assemble.plan_layers(tl, chunk) == [[0, 2, 4], [1, 3]]  # each dissolve puts its incoming shot on the other


def test_sink_adds_the_bed_and_measures():
    cmd = assemble.sink_cmd(480000, X / "theme.m4a", X / "mix.f32")
    args = flat(cmd)
    assert args[:args.index("-i") + 2] == ["-f", "f32le", "-ac", "2", "-ar", "48000", "-i", "pipe:0"]
    assert value(cmd, "-stream_loop") == "-1"
    g = cmd.script()
    assert "sidechaincompress=attack=30:ratio=8:release=500:threshold=0.02" in g
    assert "volume=volume=-16.0dB" in g and "afade=ns=96000:ss=384000:t=out" in g
    assert "ebur128=framelog=verbose:peak=true" in g
    assert cmd.loglevel == "info" and args[-3:] == ["-f", "null", "-"]
    plain = assemble.sink_cmd(480000, None, X / "mix.f32")
    assert "sidechaincompress" not in plain.script() and inputs(plain) == ["pipe:0"]


def test_mux_encodes_once_and_measures_nothing():
    """The true peak is measured once, as the mix is made: the AAC is not decoded again to measure it."""
    cmd = assemble.mux_cmd(X / "picture.mp4", X / "mix.f32", X / "out.mp4", assemble.Levels(3.5, -2.2), None, FPS, 60)
    args = flat(cmd)
    assert value(cmd, "-c:v") == "copy" and value(cmd, "-c:a") == "aac" and "-shortest" in args
    assert "volume=volume=3.50dB" in cmd.script() and "alimiter=attack=5:latency=1:level=0:limit=0.77625" in cmd.script()
    assert "-dec" not in args and "ebur128" not in cmd.script() and args[-1] == "/x/out.mp4"
    burnt = assemble.mux_cmd(X / "picture.mp4", X / "mix.f32", X / "out.mp4", assemble.Levels(0.0), Script("x", "subs.txt"),
                             FPS, 60)
    assert value(burnt, "-c:v") == "libx264" and "overlay=eof_action=pass:format=auto:x=0:y=0" in burnt.script()
    assert burnt.timeout > cmd.timeout  # the picture is encoded too


def test_measure_cmd():
    cmd = assemble.measure_cmd(X / "mix.f32", raw=True, levels=assemble.Levels(1.0), seconds=100)
    assert value(cmd, "-f") == "f32le" and cmd.loglevel == "info"
    assert "volume=volume=1.00dB" in cmd.script() and "ebur128=framelog=verbose:peak=true" in cmd.script()
    assert cmd.timeout == media_ffmpeg.timeout_for(100, "audio")
    assert "ebur128=framelog=verbose[" in assemble.measure_cmd(X / "a.mp4", peak=False).script()


def test_parse_measure():
    log = ("[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -14.2 LUFS\n"
           "    Threshold: -26.9 LUFS\n\n  Loudness range:\n    LRA:        10.8 LU\n    Threshold: -37.0 LUFS\n"
           "\n  True peak:\n    Peak:       -1.1 dBFS\n")
    assert assemble.parse_measure(log) == {"I": -14.2, "thresh": -26.9, "LRA": 10.8, "TP": -1.1}
    assert "TP" not in assemble.parse_measure(log[:log.index("\n  True peak")])  # measured without peak=true
    with pytest.raises(MediaError):
        assemble.parse_measure("no summary here")


# -- loudness decisions (pure) ----------------------------------------------------------------

def test_levels_gain_when_the_peaks_allow_else_limit():
    assert assemble.plan_levels({"I": -20.0, "TP": -9.0}, -14.0, -1.0) == assemble.Levels(6.0)
    assert assemble.plan_levels({"I": -22.8, "TP": -6.1}, -14.0, -1.0) == assemble.Levels(8.8, -2.2)
    assert assemble.plan_levels({"I": float("-inf"), "TP": float("-inf")}, -14.0, -1.0) == assemble.Levels()
    assert assemble.plan_levels({"I": -70.0, "TP": float("-inf")}, -14.0, -1.0) == assemble.Levels()  # silence
    assert assemble.plan_levels({"I": -60.0, "TP": -55.0}, -14.0, -1.0) == assemble.Levels(assemble.MAX_GAIN)


def test_next_gain_follows_the_limiters_slope():
    assert assemble.next_gain([(8.8, -15.0)], -14.0) == pytest.approx(9.8)
    # +1 dB gave +0.6 LU: the next step is 0.4 / 0.6
    assert assemble.next_gain([(8.8, -15.0), (9.8, -14.4)], -14.0) == pytest.approx(9.8 + 0.4 / 0.6)
    # a measurement going the wrong way cannot send the gain flying
    assert assemble.next_gain([(21.5, -10.5), (23.4, -11.0)], -10.0) <= 23.4 + assemble.MAX_STEP


# -- running: failures say what they are ------------------------------------------------------

@pytest.mark.parametrize("code,words", [
    (errno.E2BIG, "command line is too long"), (errno.ENOENT, "does not exist"),
    (errno.EACCES, "not an executable"), (errno.EMFILE, "open files"),
])
def test_a_failure_to_start_is_reported_as_what_it_is(monkeypatch, code, words):
    def refuse(*a, **k):
        raise OSError(code, "refused")
    monkeypatch.setattr(media_ffmpeg, "exe", lambda: "/opt/ffmpeg")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    cmd = assemble.conform_cmd(X / "in.mov", X / "out.mp4", 320, 180, FPS, 48, has_audio=True)
    with pytest.raises(FfmpegFailed) as e:
        media_ffmpeg.run(cmd)
    assert str(e.value).startswith("conforming in.mov: cannot start ffmpeg: ") and words in str(e.value)
    assert "cannot read or write" not in str(e.value)
    assert e.value.argv[0] == "/opt/ffmpeg" and "-/filter_complex" in e.value.argv
    assert isinstance(e.value, MediaError)


def test_find_levels_plain_gain_is_exact_and_measures_nothing(monkeypatch):
    monkeypatch.setattr(assemble, "measure", lambda *a, **k: pytest.fail("a plain gain needs no measurement"))
    levels, got = assemble.find_levels(X / "mix.f32", {"I": -20.0, "TP": -9.0}, -14.0, -1.0, 10, lambda s: None)
    assert levels == assemble.Levels(6.0) and got == {"I": -14.0, "TP": -3.0}


def test_find_levels_searches_the_gain_through_the_limiter(monkeypatch):
    """A limiter that takes ever more loudness as the gain rises (speech under +13 dB lost 3 LU), and
    lets inter-sample peaks through at first: the search lands within PRE_TOLERANCE, under the ceiling."""
    seen = []

    def limited(path, raw, levels, seconds, peak=True):
        seen.append(levels)
        loss = 0.08 * max(0.0, levels.gain - 6) ** 1.5
        return {"I": -27.0 + levels.gain - loss, "TP": levels.limit + (0.9 if levels.limit > -2.5 else 0.3)}
    monkeypatch.setattr(assemble, "measure", limited)
    levels, got = assemble.find_levels(X / "mix.f32", {"I": -27.0, "TP": -8.0}, -14.0, -1.0, 10, lambda s: None)
    assert abs(got["I"] - -14.0) <= assemble.PRE_TOLERANCE and got["TP"] <= -1.0 - assemble.GAIN_HEADROOM
    assert levels.limit is not None and levels.limit < -2.2 and len(seen) <= assemble.MAX_TRIES


def test_find_levels_says_when_the_target_is_out_of_reach(monkeypatch):
    monkeypatch.setattr(assemble, "measure", lambda path, raw, levels, seconds, peak=True:
                        {"I": min(-8.0, -30.0 + levels.gain), "TP": levels.limit})
    levels, got = assemble.find_levels(X / "mix.f32", {"I": -30.0, "TP": -3.0}, -2.0, -1.0, 10, lambda s: None)
    assert got["I"] == -8.0  # the closest it came, which make_cut reports as a miss

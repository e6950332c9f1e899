"""The rasteriser: :func:`render` draws a :class:`ClipSpec` as ``uint8 (F, H, W, 3)`` frames.

Vectorised numpy over all frames at once, anti-aliased by supersampling (``config.supersample`` x,
then a box filter). Coordinates are world units (scene heights, y down); the camera offset of
:class:`bench.world.motion.Motion` is added to every screen point, so a pan moves object, props and
textured background together. Styles: ``plausible``, ``static`` and ``camera_only`` objects are shaded
(light from the top left); ``violating`` ones are flat with dark outlines (the cartoon look).
Layer order: background (plain / checkered / striped) and ground, props (string, hanger, pin), the
object or its fragments, the pin, then the water tint (float).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from bench.world.motion import Motion, motion
from bench.world.physics import FLOOR_Y, FRAGMENT_SCALE, PIVOT_Y, SHAPE_EXTENT, WATER_Y
from bench.world.spec import ClipSpec, WorldConfig

OUTLINE_RGB = np.array([18.0, 16.0, 16.0], np.float32)
WATER_RGB = np.array([40.0, 110.0, 215.0], np.float32)
WATER_ALPHA = 0.35
OUTLINE_WIDTH = 0.04  # scene heights
PATTERN_PERIOD = 0.25  # checker / stripe period, scene heights
_SPOTS = ((0.45, -0.2), (-0.35, 0.4), (-0.2, -0.5))  # in radii: an asymmetric spot pattern
_SPOT_RADIUS = 0.28


def _luminance(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _contrast_rgb(bg: np.ndarray) -> np.ndarray:
    """A prop colour visible on ``bg``."""
    return np.array([200.0, 200.0, 200.0] if _luminance(bg) < 100 else [50.0, 50.0, 55.0], np.float32)


def _paint(img: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """In place: ``img[mask] = colour``; ``colour`` is ``(3,)`` or per pixel ``(F, Hs, Ws, 3)``."""
    np.copyto(img, colour, where=mask[..., None])


def _background(X: np.ndarray, Y: np.ndarray, spec: ClipSpec, shape: tuple[int, int, int]) -> np.ndarray:
    a = spec.appearance
    bg = np.array(a.background_rgb, np.float32)
    img = np.broadcast_to(bg, shape + (3,)).copy()
    tone = np.array([26.0] * 3 if _luminance(bg) < 80 else [-26.0] * 3, np.float32)
    if a.background == "checkered":
        pattern = (np.floor(X / PATTERN_PERIOD) + np.floor(Y / PATTERN_PERIOD)) % 2 == 1
    elif a.background == "striped":
        pattern = np.floor((X + Y) / (0.7 * PATTERN_PERIOD)) % 2 == 1
    else:
        pattern = None
    if pattern is not None:
        _paint(img, np.broadcast_to(pattern, shape), bg + tone)
    box = _crop(img, X, Y, (-np.inf, np.inf), (FLOOR_Y, np.inf))
    if spec.category != "float" and box is not None:
        part, _, Yb = box
        ground = bg + (np.float32(45.0) if _luminance(bg) < 80 else np.float32(-40.0))
        _paint(part, np.broadcast_to(Yb > FLOOR_Y, part.shape[:3]), np.clip(ground, 0, 255))
    return img


def _body(
    X: np.ndarray, Y: np.ndarray, cx, cy, angle, sx, sy, radius: float, shape: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Signed distance (negative inside, approx.), local coords ``u, v`` and world offsets of a body.

    Pose arguments are arrays of shape ``(F, 1, 1)`` (or scalars); outputs ``(F, Hs, Ws)``.
    """
    dx, dy = X - cx, Y - cy
    c, s = np.cos(angle), np.sin(angle)
    u = (c * dx + s * dy) / sx
    v = (-s * dx + c * dy) / sy
    if shape == "ball":
        d = np.sqrt(u * u + v * v) - radius
    elif shape == "box":
        d = np.maximum(np.abs(u), np.abs(v)) - SHAPE_EXTENT["box"] * radius
    else:
        d = (np.abs(u) + np.abs(v) - SHAPE_EXTENT["diamond"] * radius) / np.sqrt(2.0)
    return d, u, v, dx, dy


def _crop(img, X, Y, x_range, y_range):
    """Views of ``img``, ``X``, ``Y`` on the screen box covering the world box in any frame, or None.

    Drawing only inside the box an item sweeps over the clip is the renderer's main cost saving.
    """
    rows = np.flatnonzero(((Y[:, :, 0] >= y_range[0]) & (Y[:, :, 0] <= y_range[1])).any(axis=0))
    cols = np.flatnonzero(((X[:, 0, :] >= x_range[0]) & (X[:, 0, :] <= x_range[1])).any(axis=0))
    if not rows.size or not cols.size:
        return None
    r, c = slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)
    return img[:, r, c], X[:, :, c], Y[:, r, :]


def _draw_object(img, X, Y, pose, radius, spec: ClipSpec, textured: bool) -> None:
    """Paint one body (the object or a fragment) with ``pose = (cx, cy, angle, sx, sy, visible)``."""
    cx, cy, angle, sx, sy = (np.asarray(p, np.float32)[:, None, None] for p in pose[:5])
    visible = np.asarray(pose[5], bool)[:, None, None]
    a = spec.appearance
    reach = radius * 1.3 * float(np.max(np.maximum(sx, sy))) + 0.02
    box = _crop(img, X, Y, (cx.min() - reach, cx.max() + reach), (cy.min() - reach, cy.max() + reach))
    if box is None:
        return
    img, X, Y = box
    d, u, v, dx, dy = _body(X, Y, cx, cy, angle, sx, sy, radius, a.shape)
    inside = (d <= 0) & visible
    if not inside.any():
        return
    factor = np.ones(inside.shape, np.float32)
    flat = spec.label == "violating"
    if not flat:  # soft shading, light from the top left
        light = np.sqrt((dx + 0.35 * radius) ** 2 + (dy + 0.35 * radius) ** 2) / (1.6 * radius)
        factor = (1.15 - 0.45 * np.clip(light, 0.0, 1.0)).astype(np.float32)
    if textured and a.texture == "striped":
        factor = np.where(np.floor(u / (0.5 * radius)) % 2 == 1, 0.5 * factor, factor)
    elif textured and a.texture == "spotted":
        spots = np.zeros(inside.shape, bool)
        for px, py in _SPOTS:
            spots |= (u - px * radius) ** 2 + (v - py * radius) ** 2 < (_SPOT_RADIUS * radius) ** 2
        factor = np.where(spots, 0.45 * factor, factor)
    rgb = np.array(a.rgb, np.float32)
    colour = np.clip(factor[..., None] * rgb, 0, 255)
    _paint(img, inside, colour)
    if flat:
        width = OUTLINE_WIDTH / np.sqrt(sx * sy)
        _paint(img, inside & (d > -width * np.minimum(sx, sy)), OUTLINE_RGB)


def _draw_props(img, X, Y, m: Motion, spec: ClipSpec, colour: np.ndarray) -> None:
    """Paint the category's prop: the pendulum string, the hanger bar, the spin axle's pin."""
    r = spec.appearance.radius
    cx, cy = m.cx[:, None, None], m.cy[:, None, None]
    if m.prop == "string":
        ax, ay = m.anchor
        box = _crop(img, X, Y, (min(ax, cx.min()) - 0.09, max(ax, cx.max()) + 0.09), (ay - 0.03, cy.max()))
        if box is None:
            return
        img, X, Y = box
        bx, by = cx - ax, cy - ay
        t = np.clip(((X - ax) * bx + (Y - ay) * by) / (bx * bx + by * by), 0.0, 1.0)
        string = np.hypot(X - ax - t * bx, Y - ay - t * by) < 0.016
        _paint(img, string | ((np.abs(X - ax) < 0.08) & (np.abs(Y - ay) < 0.02)), colour)
    elif m.prop == "hanger":
        ax, ay = m.anchor
        box = _crop(img, X, Y, (ax - 2.0 * r, ax + 2.0 * r), (PIVOT_Y, ay))
        if box is not None:
            img, X, Y = box
            bar = (np.abs(X - ax) < 2.0 * r) & (Y > PIVOT_Y) & (Y <= ay)
            _paint(img, np.broadcast_to(bar, img.shape[:3]), colour)
    elif m.prop == "pin":
        ax, ay = m.anchor
        box = _crop(img, X, Y, (ax - 0.03, ax + 0.03), (ay - 0.03, ay + 0.03))
        if box is not None:
            img, X, Y = box
            _paint(img, np.broadcast_to((X - ax) ** 2 + (Y - ay) ** 2 < 0.03**2, img.shape[:3]), colour)


def _grid(spec: ClipSpec, config: WorldConfig) -> tuple[Motion, np.ndarray, np.ndarray]:
    """The clip's motion and the world coordinates of every supersample: ``X (F, 1, Ws)``, ``Y (F, Hs, 1)``."""
    H, W, ss = config.height, config.width, config.supersample
    m = motion(spec, config.frames, config.aspect)
    ys = ((np.arange(H * ss, dtype=np.float32) + 0.5) / (ss * H))[None, :, None]
    xs = ((np.arange(W * ss, dtype=np.float32) + 0.5) / (ss * H))[None, None, :]
    return m, xs + m.cam[:, 0, None, None].astype(np.float32), ys + m.cam[:, 1, None, None].astype(np.float32)


def _bodies(m: Motion, radius: float) -> list[tuple[tuple, float, bool]]:
    """``(pose, radius, textured)`` of the intact object and of every fragment, in drawing order."""
    out = []
    if m.visible.any():
        out.append(((m.cx, m.cy, m.angle, m.sx, m.sy, m.visible), radius, True))
    if m.frags is not None:
        ones = np.ones(len(m.cx))
        for k in range(m.frags.shape[0]):
            fx, fy, fa = m.frags[k].T
            out.append(((fx, fy, fa, ones, ones, m.frag_visible), radius * FRAGMENT_SCALE, False))
    return out


def _downsample(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Box filter of supersampled frames ``(F, Hs, Ws[, C])`` to ``(F, height, width[, C])``."""
    return np.stack([cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in img])


def object_coverage(spec: ClipSpec, config: WorldConfig) -> np.ndarray:
    """Ground-truth object masks: ``float32 (F, H, W)`` in [0, 1], the fraction of each pixel the object
    (or its fragments) covers on screen, anti-aliased like :func:`render`. Props and water are not object.
    """
    m, X, Y = _grid(spec, config)
    cover = np.zeros((config.frames, config.height * config.supersample, config.width * config.supersample),
                     np.float32)
    for pose, radius, _ in _bodies(m, spec.appearance.radius):
        cx, cy, angle, sx, sy = (np.asarray(p, np.float32)[:, None, None] for p in pose[:5])
        visible = np.asarray(pose[5], bool)[:, None, None]
        reach = radius * 1.3 * float(np.max(np.maximum(sx, sy))) + 0.02
        box = _crop(cover[..., None], X, Y, (cx.min() - reach, cx.max() + reach), (cy.min() - reach, cy.max() + reach))
        if box is None:
            continue
        part, Xb, Yb = box
        d = _body(Xb, Yb, cx, cy, angle, sx, sy, radius, spec.appearance.shape)[0]
        part[..., 0][(d <= 0) & visible] = 1.0
    return _downsample(cover, config.width, config.height)


def render(spec: ClipSpec, config: WorldConfig) -> np.ndarray:
    """Render one clip: ``uint8 (F, H, W, 3)`` RGB. Deterministic: a pure function of ``spec`` and ``config``."""
    F, H, W, ss = config.frames, config.height, config.width, config.supersample
    m, X, Y = _grid(spec, config)
    full = (F, H * ss, W * ss)
    if m.cam.any():
        img = _background(X, Y, spec, full)
    else:  # a still camera: draw the background once and repeat it
        img = np.repeat(_background(X[:1], Y[:1], spec, (1,) + full[1:]), F, axis=0)
    bg = np.array(spec.appearance.background_rgb, np.float32)
    prop_rgb = _contrast_rgb(bg)
    if m.prop != "pin":
        _draw_props(img, X, Y, m, spec, prop_rgb)
    for pose, radius, textured in _bodies(m, spec.appearance.radius):
        _draw_object(img, X, Y, pose, radius, spec, textured=textured)
    if m.prop == "pin":  # drawn over the spinning body
        _draw_props(img, X, Y, m, spec, prop_rgb)
    if spec.category == "float":
        below = np.flatnonzero((Y[:, :, 0] > WATER_Y).any(axis=0))
        if below.size:
            part = img[:, below[0]:]
            water = np.broadcast_to(Y[:, below[0]:] > WATER_Y, part.shape[:3])[..., None]
            np.copyto(part, (1 - WATER_ALPHA) * part + WATER_ALPHA * WATER_RGB, where=water)
    out = _downsample(img, W, H)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def render_many(specs: list[ClipSpec], config: WorldConfig, progress: bool = False) -> np.ndarray:
    """Render clips into one ``uint8 (N, F, H, W, 3)`` array (tqdm bar when ``progress``)."""
    out = np.empty((len(specs), config.frames, config.height, config.width, 3), np.uint8)
    items = enumerate(specs)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, total=len(specs), desc="render", unit="clip")
    for i, spec in items:
        out[i] = render(spec, config)
    return out


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """``uint8 (N, F, H, W, 3)`` (or one clip ``(F, H, W, 3)``) -> ``float32 (N, 3, F, H, W)`` in [-1, 1]."""
    arr = np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim not in (4, 5) or arr.shape[-1] != 3:
        from bench.errors import WorldError

        raise WorldError(
            f"to_tensor expects uint8 frames of shape (N, F, H, W, 3) or (F, H, W, 3); "
            f"got dtype {arr.dtype} and shape {arr.shape}. Pass the output of render / render_many."
        )
    if arr.ndim == 4:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 4, 1, 2, 3).float()
    return t / 127.5 - 1.0

/**
 * Puts a heat map computed on the model's input back onto the original image's pixel grid. Validation
 * preprocessing resizes so the short side is `resize`, then centre-crops `size` x `size`; the inverse
 * maps each original pixel into that crop (bilinear), and pixels outside the crop get no heat.
 */
export function heatmapOnSource(heatmap: Float32Array, size: number, resize: number, width: number, height: number): Float32Array {
  const scale = resize / Math.min(width, height);
  const side = size / scale; // the crop's side in original pixels
  const left = (width - side) / 2;
  const top = (height - side) / 2;
  const out = new Float32Array(width * height);
  const at = (u: number, v: number) => heatmap[Math.min(size - 1, Math.max(0, v)) * size + Math.min(size - 1, Math.max(0, u))];
  for (let y = 0; y < height; y++) {
    // Pixel centres map to pixel centres, as the resize does.
    const v = ((y + 0.5 - top) * size) / side - 0.5;
    if (v < -0.5 || v > size - 0.5) continue;
    const v0 = Math.floor(v),
      fv = v - v0;
    for (let x = 0; x < width; x++) {
      const u = ((x + 0.5 - left) * size) / side - 0.5;
      if (u < -0.5 || u > size - 0.5) continue;
      const u0 = Math.floor(u),
        fu = u - u0;
      const topRow = at(u0, v0) * (1 - fu) + at(u0 + 1, v0) * fu;
      const bottomRow = at(u0, v0 + 1) * (1 - fu) + at(u0 + 1, v0 + 1) * fu;
      out[y * width + x] = topRow * (1 - fv) + bottomRow * fv;
    }
  }
  return out;
}

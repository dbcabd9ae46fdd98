//! Image textures decoded from bytes (PNG, JPEG, TIFF and MoonRay's mip-mapped `.tx`, OpenEXR,
//! Radiance HDR) into linear RGB, with MoonRay's ImageMap colour rule, wrap modes, uv transform
//! and filtering.
//!
//! Facts from moonray `dso/map/Image/ImageMap.json`: `gamma` is off (0), on (1) or auto (2,
//! the default), and "if this is set to 'on' or 'auto' and the 'texture' file is 8-bit, then a
//! power of 2.2 will be applied to the RGB channels"; `wrap_around` (default true) repeats the
//! image at its borders, false clamps to them.

use glam::Vec3;

/// A decoded texture: linear RGB texels, row 0 at the top of the image, and the alpha channel
/// of a file that has one (never with a power applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Texture {
    pub width: u32,
    pub height: u32,
    pub texels: Vec<Vec3>,
    pub alpha: Option<Vec<f32>>,
}

/// ImageMap's `gamma` attribute, and UsdUVTexture's `sourceColorSpace` (raw is off, sRGB on,
/// auto `Usd`: on unless the file has a single channel; moonray `lib/rendering/shading/Util.h`
/// `getApplyGamma`). The power applies to 8-bit files only (`BasicTexture.cc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gamma {
    Off,
    On,
    Auto,
    Usd,
}

/// Which of a texture's channels a lookup reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Rgb,
    Alpha,
}

/// What a lookup outside the texture reads, per axis (moonray `lib/rendering/shading/Texture.h`
/// `WrapType`, OpenImageIO's wrap modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    Black,
    Clamp,
    Repeat,
    Mirror,
}

impl Wrap {
    /// UsdUVTexture's `wrapS`/`wrapT`: black 0, clamp 1, repeat 2, mirror 3; "useMetadata" (4,
    /// the default) is repeat, as `UsdUVTexture.cc` falls back to.
    pub fn from_usd(v: i64) -> Wrap {
        match v {
            0 => Wrap::Black,
            1 => Wrap::Clamp,
            3 => Wrap::Mirror,
            _ => Wrap::Repeat,
        }
    }

    /// ImageMap's `wrap_around`.
    pub fn around(repeat: bool) -> Wrap {
        if repeat {
            Wrap::Repeat
        } else {
            Wrap::Clamp
        }
    }

    /// Index `i` of `n` under this mode; None where black shows.
    fn index(self, i: i64, n: i64) -> Option<i64> {
        match self {
            Wrap::Black => (0..n).contains(&i).then_some(i),
            Wrap::Clamp => Some(i.clamp(0, n - 1)),
            Wrap::Repeat => Some(i.rem_euclid(n)),
            Wrap::Mirror => {
                let m = i.rem_euclid(2 * n);
                Some(if m >= n { 2 * n - 1 - m } else { m })
            }
        }
    }
}

impl Gamma {
    /// From the attribute's integer value (0, 1, 2); anything else is MoonRay's default, auto.
    pub fn from_attr(v: i64) -> Gamma {
        match v {
            0 => Gamma::Off,
            1 => Gamma::On,
            _ => Gamma::Auto,
        }
    }
}

impl Texture {
    /// Decodes a PNG, JPEG or OpenEXR file's bytes (the format is read from the bytes).
    pub fn decode(bytes: &[u8], gamma: Gamma) -> Result<Texture, String> {
        let img = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
        let eight_bit = matches!(
            img.color(),
            image::ColorType::L8
                | image::ColorType::La8
                | image::ColorType::Rgb8
                | image::ColorType::Rgba8
        );
        let linearise = eight_bit
            && match gamma {
                Gamma::Off => false,
                Gamma::On | Gamma::Auto => true,
                Gamma::Usd => img.color() != image::ColorType::L8,
            };
        let has_alpha = img.color().has_alpha();
        let rgba = img.into_rgba32f();
        let (width, height) = rgba.dimensions();
        if width == 0 || height == 0 {
            return Err("the image is empty".into());
        }
        let texels = rgba
            .pixels()
            .map(|p| {
                let c = Vec3::new(p[0], p[1], p[2]);
                if linearise {
                    c.max(Vec3::ZERO).powf(2.2)
                } else {
                    c
                }
            })
            .collect();
        let alpha = has_alpha.then(|| rgba.pixels().map(|p| p[3]).collect());
        Ok(Texture {
            width,
            height,
            texels,
            alpha,
        })
    }

    /// The mean of all texels.
    pub fn mean(&self) -> Vec3 {
        self.texels.iter().copied().sum::<Vec3>() / self.texels.len() as f32
    }

    /// The nearest texel at texture coordinates (u, v), v up from the bottom row as in
    /// MoonRay's uv space; `wrap` repeats the image, otherwise coordinates clamp to the border.
    pub fn sample(&self, u: f32, v: f32, wrap: bool) -> Vec3 {
        let (w, h) = (self.width as i64, self.height as i64);
        let x = (u * w as f32).floor() as i64;
        let y = ((1.0 - v) * h as f32).floor() as i64;
        let (x, y) = if wrap {
            (x.rem_euclid(w), y.rem_euclid(h))
        } else {
            (x.clamp(0, w - 1), y.clamp(0, h - 1))
        };
        self.texels[(y * w + x) as usize]
    }

    /// Texel `(x, y)` (row 0 at the top) of `channel`, wrapped per axis outside the image.
    fn texel(&self, x: i64, y: i64, wrap: (Wrap, Wrap), channel: Channel) -> Vec3 {
        let (w, h) = (self.width as i64, self.height as i64);
        match (wrap.0.index(x, w), wrap.1.index(y, h)) {
            (Some(x), Some(y)) => {
                let i = (y * w + x) as usize;
                match (channel, &self.alpha) {
                    (Channel::Rgb, _) => self.texels[i],
                    (Channel::Alpha, Some(a)) => Vec3::splat(a[i]),
                    (Channel::Alpha, None) => Vec3::ONE,
                }
            }
            _ => Vec3::ZERO,
        }
    }

    /// The four texels around (u, v) blended by distance from their centres (v up from the
    /// bottom row): at a texel's centre its own colour, halfway between two their mean. Past
    /// the border `wrap` blends with the opposite edge, otherwise the edge texels hold.
    pub fn bilinear(&self, u: f32, v: f32, wrap: bool) -> Vec3 {
        let w = Wrap::around(wrap);
        self.bilinear_wrapped(u, v, (w, w))
    }

    /// `bilinear` with a wrap mode for each axis (s, then t).
    pub fn bilinear_wrapped(&self, u: f32, v: f32, wrap: (Wrap, Wrap)) -> Vec3 {
        self.bilinear_channel(u, v, wrap, Channel::Rgb)
    }

    /// `bilinear_wrapped` of the colour or of the alpha (1 where the file has none) in all three.
    pub fn bilinear_channel(&self, u: f32, v: f32, wrap: (Wrap, Wrap), channel: Channel) -> Vec3 {
        let x = u * self.width as f32 - 0.5;
        let y = (1.0 - v) * self.height as f32 - 0.5;
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = self
            .texel(x0, y0, wrap, channel)
            .lerp(self.texel(x0 + 1, y0, wrap, channel), fx);
        let bottom = self
            .texel(x0, y0 + 1, wrap, channel)
            .lerp(self.texel(x0 + 1, y0 + 1, wrap, channel), fx);
        top.lerp(bottom, fy)
    }
}

/// Texture colour correction as MoonRay's lights (scene_rdl2 `Light.cc`, moonray
/// `pbr/core/ImageColorCorrect.ispc`) and ImageMap (`dso/map/Image/ImageMap.cc`
/// `applyColorCorrection`) apply it, in their common order: saturation, contrast, gamma, gain
/// and offset, TMI; each step only when it differs from its default (formulas from moonray
/// `lib/rendering/shading/ispc/ColorCorrect.isph`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorCorrect {
    pub saturation: Vec3,
    pub contrast: Vec3,
    pub gamma: Vec3,
    pub gain: Vec3,
    pub offset: Vec3,
    /// Nuke's temperature, magenta and intensity (T, M, I).
    pub temperature: Vec3,
}

impl Default for ColorCorrect {
    fn default() -> Self {
        ColorCorrect {
            saturation: Vec3::ONE,
            contrast: Vec3::ONE,
            gamma: Vec3::ONE,
            gain: Vec3::ONE,
            offset: Vec3::ZERO,
            temperature: Vec3::ZERO,
        }
    }
}

impl ColorCorrect {
    pub fn is_identity(&self) -> bool {
        *self == ColorCorrect::default()
    }

    /// As a light applies it to its texels: clamped at zero afterwards.
    pub fn apply(&self, c: Vec3) -> Vec3 {
        self.apply_unclamped(c).max(Vec3::ZERO)
    }

    /// As an ImageMap applies it to its result: not clamped.
    pub fn apply_unclamped(&self, mut c: Vec3) -> Vec3 {
        if self.saturation != Vec3::ONE {
            let y = crate::envmap::luminance(c);
            c = Vec3::splat(y) + (c - Vec3::splat(y)) * self.saturation;
        }
        if self.contrast != Vec3::ONE {
            // Nuke's contrast about 18% grey (ColorCorrect.isph `applyNukeContrast`).
            for i in 0..3 {
                let k = self.contrast[i];
                c[i] = if c[i] > 0.0 {
                    (c[i] / 0.18).powf(k) * 0.18
                } else {
                    c[i] * (1.0f32 / 0.18).powf(k) * 0.18
                };
            }
        }
        if self.gamma != Vec3::ONE {
            // ImageColorCorrect.ispc passes 1 / max(gamma, 1e-6) to `applyGamma`.
            for i in 0..3 {
                if c[i] > 0.0 {
                    c[i] = c[i].powf(1.0 / self.gamma[i].max(1e-6));
                }
            }
        }
        if self.gain != Vec3::ONE || self.offset != Vec3::ZERO {
            c = c * self.gain + self.offset;
        }
        if self.temperature != Vec3::ZERO {
            let (t, m, i) = (self.temperature.x, self.temperature.y, self.temperature.z);
            let e = 2f32.powf(i);
            let r = e + m / 3.0 - t / 2.0;
            c *= Vec3::new(r, e - 2.0 * m / 3.0, r + t);
        }
        c
    }
}

/// An ImageMap's texture with its uv transform (moonray `dso/map/Image/ImageMap.cc` and
/// `ImageMap.json`): st rotated by `rotation_angle` degrees about `rotation_center` (default
/// (0.5, 0.5)) as the row vector `(s - c, t - c) * R + c` with R's rows (cos, -sin) and
/// (sin, cos), then `scale * st + offset`; read with bilinear filtering (MoonRay's mip-mapped
/// filtering is not done: the top level is read at every distance).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageLookup {
    pub texture: std::sync::Arc<Texture>,
    /// Along s, then t.
    pub wrap: (Wrap, Wrap),
    pub scale: glam::Vec2,
    pub offset: glam::Vec2,
    /// Radians.
    pub rotation: f32,
    pub rotation_center: glam::Vec2,
    /// The `*_enabled` colour corrections, applied to the filtered colour.
    pub color_correct: Option<ColorCorrect>,
    /// `alpha_only`: the alpha channel in all three (1 without one), then colour-corrected.
    pub channel: Channel,
    /// A `<UDIM>` texture's tiles; then `texture` is the first tile present.
    pub udim: Option<std::sync::Arc<Udim>>,
}

/// A UDIM texture's tiles (moonray `lib/rendering/shading/UdimTexture.cc`): the tile numbered
/// 1001 + int(u) + 10 int(v) holds st's fractional part. u outside [0, 10] or v below 0 reads the scene's
/// `fatal_color` (`out_of_range`); a tile with no file reads `missing` (ImageMap: its
/// `default_color` with `use_default_color_when_missing`, else `fatal_color`; UsdUVTexture: its
/// `fallback`).
#[derive(Debug, Clone, PartialEq)]
pub struct Udim {
    /// Index 0 is tile 1001.
    pub tiles: Vec<Option<std::sync::Arc<Texture>>>,
    pub missing: Vec3,
    pub out_of_range: Vec3,
}

impl Udim {
    /// The tile under `st` and st within it, or the colour that shows instead.
    fn tile(&self, st: glam::Vec2) -> Result<(&Texture, glam::Vec2), Vec3> {
        if !(0.0..=10.0).contains(&st.x) || st.y < 0.0 {
            return Err(self.out_of_range);
        }
        let (iu, iv) = (st.x as usize, st.y as usize);
        match self.tiles.get(iu + 10 * iv) {
            Some(Some(t)) => Ok((t, st - glam::Vec2::new(iu as f32, iv as f32))),
            _ => Err(self.missing),
        }
    }
}

impl ImageLookup {
    /// The texture's own coordinates at the hit's uv.
    pub fn coords(&self, uv: glam::Vec2) -> glam::Vec2 {
        let mut st = uv;
        if self.rotation != 0.0 {
            let (s, c) = self.rotation.sin_cos();
            let d = st - self.rotation_center;
            st = glam::Vec2::new(d.x * c + d.y * s, -d.x * s + d.y * c) + self.rotation_center;
        }
        self.scale * st + self.offset
    }

    pub fn eval(&self, uv: glam::Vec2) -> Vec3 {
        // A UDIM tile is chosen by the st the map is given, before its transform
        // (`ImageMap.cc` `sample`).
        let (texture, uv) = match &self.udim {
            Some(u) => match u.tile(uv) {
                Ok(found) => found,
                Err(colour) => return colour,
            },
            None => (&*self.texture, uv),
        };
        let st = self.coords(uv);
        let c = texture.bilinear_channel(st.x, st.y, self.wrap, self.channel);
        match &self.color_correct {
            Some(cc) => cc.apply_unclamped(c),
            None => c,
        }
    }
}

#[cfg(test)]
pub(crate) fn png(width: u32, height: u32, rgb: &[[u8; 3]]) -> Vec<u8> {
    let mut img = image::RgbImage::new(width, height);
    for (i, p) in img.pixels_mut().enumerate() {
        *p = image::Rgb(rgb[i]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A baseline TIFF holding one uncompressed 8-bit RGB image per entry of `levels` (width,
/// height, texels row-major from the top), chained as a mip-mapped `.tx` chains its levels.
#[cfg(test)]
pub(crate) fn tiff(levels: &[(u32, u32, Vec<[u8; 3]>)]) -> Vec<u8> {
    let mut out = b"II".to_vec();
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&8u32.to_le_bytes());
    for (k, (w, h, rgb)) in levels.iter().enumerate() {
        let ifd = out.len() as u32;
        let bits = ifd + 2 + 9 * 12 + 4;
        let data = bits + 6;
        let len = rgb.len() as u32 * 3;
        let next = if k + 1 == levels.len() {
            0
        } else {
            (data + len + 1) & !1
        };
        // (tag, type: 3 SHORT / 4 LONG, count, value or offset), in tag order.
        let entries: [(u16, u16, u32, u32); 9] = [
            (256, 3, 1, *w),
            (257, 3, 1, *h),
            (258, 3, 3, bits),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (273, 4, 1, data),
            (277, 3, 1, 3),
            (278, 3, 1, *h),
            (279, 4, 1, len),
        ];
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, ty, count, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&next.to_le_bytes());
        for _ in 0..3 {
            out.extend_from_slice(&8u16.to_le_bytes());
        }
        out.extend(rgb.iter().flatten());
        if out.len() % 2 == 1 {
            out.push(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiff_and_mip_mapped_tx_files_read_their_top_level() {
        // Two levels, as maketx writes them: 2x1 on top, then 1x1. The top level is read, and
        // 8 bits get the 2.2 power under gamma auto.
        let bytes = tiff(&[
            (2, 1, vec![[255, 128, 0], [0, 0, 255]]),
            (1, 1, vec![[10, 10, 10]]),
        ]);
        let t = Texture::decode(&bytes, Gamma::Auto).unwrap();
        assert_eq!((t.width, t.height), (2, 1));
        let half = (128.0f32 / 255.0).powf(2.2);
        assert!(
            (t.texels[0] - Vec3::new(1.0, half, 0.0))
                .abs()
                .max_element()
                < 1e-5
        );
        assert_eq!(t.texels[1], Vec3::Z);
        let off = Texture::decode(&bytes, Gamma::Off).unwrap();
        assert!((off.texels[0].y - 128.0 / 255.0).abs() < 1e-5);
    }

    #[test]
    fn alpha_is_kept_without_a_power_and_is_one_when_absent() {
        let img = image::RgbaImage::from_pixel(1, 1, image::Rgba([128, 128, 128, 64]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        let t = Texture::decode(&out.into_inner(), Gamma::Auto).unwrap();
        let wrap = (Wrap::Clamp, Wrap::Clamp);
        let a = t.bilinear_channel(0.5, 0.5, wrap, Channel::Alpha);
        assert!(
            (a - Vec3::splat(64.0 / 255.0)).abs().max_element() < 1e-6,
            "{a}"
        );
        let c = t.bilinear_channel(0.5, 0.5, wrap, Channel::Rgb);
        assert!((c.x - (128.0f32 / 255.0).powf(2.2)).abs() < 1e-6);
        let opaque = Texture::decode(&png(1, 1, &[[9, 9, 9]]), Gamma::Auto).unwrap();
        assert_eq!(opaque.alpha, None);
        assert_eq!(
            opaque.bilinear_channel(0.5, 0.5, wrap, Channel::Alpha),
            Vec3::ONE
        );
    }

    #[test]
    fn sixteen_bit_files_are_read_linear() {
        // MoonRay's power is for 8-bit files only (BasicTexture.cc `mIs8bit`).
        let img =
            image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(1, 1, image::Rgb([32768; 3]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb16(img)
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        let t = Texture::decode(&out.into_inner(), Gamma::On).unwrap();
        assert!(
            (t.texels[0].x - 32768.0 / 65535.0).abs() < 1e-6,
            "{}",
            t.texels[0]
        );
    }

    #[test]
    fn radiance_hdr_files_are_linear_floats() {
        // RGBE holds 2.5, 0.5 and 0.125 exactly (one exponent, 8-bit mantissas); float data gets
        // no power whatever `gamma` says.
        let img = image::Rgb32FImage::from_pixel(2, 2, image::Rgb([2.5, 0.5, 0.125]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb32F(img)
            .write_to(&mut out, image::ImageFormat::Hdr)
            .unwrap();
        let t = Texture::decode(&out.into_inner(), Gamma::On).unwrap();
        assert_eq!((t.width, t.height), (2, 2));
        let want = Vec3::new(2.5, 0.5, 0.125);
        assert!(
            (t.texels[3] - want).abs().max_element() < 0.01 * 2.5,
            "{}",
            t.texels[3]
        );
    }

    #[test]
    fn bilinear_filtering_blends_the_four_nearest_texel_centres() {
        // 2x2: top row red, green; bottom row blue, white (texel centres at u, v = 1/4, 3/4).
        let bytes = png(
            2,
            2,
            &[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]],
        );
        let t = Texture::decode(&bytes, Gamma::Off).unwrap();
        let close = |a: Vec3, b: Vec3| (a - b).abs().max_element() < 1e-6;
        assert!(
            close(t.bilinear(0.25, 0.75, false), Vec3::X),
            "a centre is its texel"
        );
        // On the boundary between red and green: their mean.
        assert!(close(
            t.bilinear(0.5, 0.75, false),
            Vec3::new(0.5, 0.5, 0.0)
        ));
        // The middle of the image: the mean of all four.
        assert!(close(t.bilinear(0.5, 0.5, false), Vec3::new(0.5, 0.5, 0.5)));
        // Past the left edge clamping holds red; wrapping blends with green across the seam.
        assert!(close(t.bilinear(0.0, 0.75, false), Vec3::X));
        assert!(close(t.bilinear(0.0, 0.75, true), Vec3::new(0.5, 0.5, 0.0)));
    }

    #[test]
    fn wrap_modes_black_clamp_repeat_and_mirror() {
        // One row of 3 texels 0.1, 0.5, 0.9 (8-bit values 26, 128, 230 read linear).
        let t = Texture::decode(&png(3, 1, &[[26; 3], [128; 3], [230; 3]]), Gamma::Off).unwrap();
        let at = |u: f32, w: Wrap| t.bilinear_wrapped(u, 0.5, (w, Wrap::Clamp)).x;
        let (a, c) = (26.0 / 255.0, 230.0 / 255.0);
        // 1/6 past the right edge is the centre of texel 3 (or -1 mirrored back): black reads
        // 0, clamp the last texel, repeat the first, mirror the last again.
        let u = 1.0 + 1.0 / 6.0;
        assert!(at(u, Wrap::Black).abs() < 1e-6);
        assert!((at(u, Wrap::Clamp) - c).abs() < 1e-6);
        assert!((at(u, Wrap::Repeat) - a).abs() < 1e-6);
        assert!((at(u, Wrap::Mirror) - c).abs() < 1e-6);
        // On the right border: half the last texel and half what lies past it.
        assert!((at(1.0, Wrap::Black) - c / 2.0).abs() < 1e-6);
        assert!((at(1.0, Wrap::Repeat) - (a + c) / 2.0).abs() < 1e-6);
        assert_eq!(
            Wrap::from_usd(4),
            Wrap::Repeat,
            "useMetadata falls back to repeat"
        );
    }

    #[test]
    fn usd_auto_colour_space_leaves_single_channel_files_raw() {
        let mut img = image::GrayImage::new(1, 1);
        img.put_pixel(0, 0, image::Luma([128]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        let grey = Texture::decode(&out.into_inner(), Gamma::Usd).unwrap();
        assert!((grey.texels[0].x - 128.0 / 255.0).abs() < 1e-6);
        let rgb = Texture::decode(&png(1, 1, &[[128; 3]]), Gamma::Usd).unwrap();
        assert!((rgb.texels[0].x - (128.0f32 / 255.0).powf(2.2)).abs() < 1e-6);
    }

    #[test]
    fn image_map_uv_transform_rotates_scales_and_offsets() {
        // A 2x1 texture: left red, right green.
        let t = Texture::decode(&png(2, 1, &[[255, 0, 0], [0, 255, 0]]), Gamma::Off).unwrap();
        let mut look = ImageLookup {
            texture: std::sync::Arc::new(t),
            wrap: (Wrap::Repeat, Wrap::Repeat),
            scale: glam::Vec2::ONE,
            offset: glam::Vec2::ZERO,
            rotation: 0.0,
            rotation_center: glam::Vec2::splat(0.5),
            color_correct: None,
            channel: Channel::Rgb,
            udim: None,
        };
        let uv = glam::Vec2::new(0.5, 0.25);
        assert_eq!(look.coords(uv), uv);
        // 90 degrees about (0.5, 0.5): (s - c, t - c) * R + c with R's rows (0, -1), (1, 0):
        // (0, -0.25) -> (-0.25, 0) -> (0.25, 0.5): the point below the centre reads the left
        // (red) texel's centre.
        look.rotation = std::f32::consts::FRAC_PI_2;
        let st = look.coords(uv);
        assert!((st - glam::Vec2::new(0.25, 0.5)).length() < 1e-6, "{st}");
        assert!((look.eval(uv) - Vec3::X).abs().max_element() < 1e-5);
        // Scale then offset: 2 * 0.375 + 0.0 = 0.75, the green centre; offset 0.5 wraps back.
        look.rotation = 0.0;
        look.scale = glam::Vec2::new(2.0, 1.0);
        assert!(
            (look.eval(glam::Vec2::new(0.375, 0.5)) - Vec3::Y)
                .abs()
                .max_element()
                < 1e-5
        );
        look.offset = glam::Vec2::new(0.5, 0.0);
        assert!(
            (look.eval(glam::Vec2::new(0.375, 0.5)) - Vec3::X)
                .abs()
                .max_element()
                < 1e-5
        );
    }

    #[test]
    fn eight_bit_textures_get_a_2_2_power_unless_gamma_is_off() {
        let bytes = png(2, 1, &[[255, 128, 0], [0, 0, 255]]);
        let t = Texture::decode(&bytes, Gamma::Auto).unwrap();
        assert_eq!((t.width, t.height), (2, 1));
        let half = (128.0f32 / 255.0).powf(2.2);
        assert!(
            (t.texels[0] - Vec3::new(1.0, half, 0.0))
                .abs()
                .max_element()
                < 1e-5
        );
        let off = Texture::decode(&bytes, Gamma::Off).unwrap();
        assert!((off.texels[0].y - 128.0 / 255.0).abs() < 1e-5);
        assert!(
            (t.mean() - Vec3::new(0.5, half / 2.0, 0.5))
                .abs()
                .max_element()
                < 1e-5
        );
    }

    #[test]
    fn sampling_wraps_or_clamps() {
        // 2x2: top row red, green; bottom row blue, white.
        let bytes = png(
            2,
            2,
            &[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]],
        );
        let t = Texture::decode(&bytes, Gamma::Off).unwrap();
        let (red, green, blue) = (Vec3::X, Vec3::Y, Vec3::Z);
        assert_eq!(t.sample(0.25, 0.75, true), red);
        assert_eq!(t.sample(0.75, 0.75, true), green);
        assert_eq!(t.sample(0.25, 0.25, true), blue);
        assert_eq!(t.sample(1.25, 0.75, true), red, "u past 1 repeats");
        assert_eq!(t.sample(1.25, 0.75, false), green, "u past 1 clamps");
        assert!(Texture::decode(b"not an image", Gamma::Auto).is_err());
    }
}

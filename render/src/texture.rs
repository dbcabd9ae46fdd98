//! Image textures decoded from bytes (PNG, JPEG, TIFF and MoonRay's mip-mapped `.tx`, OpenEXR,
//! Radiance HDR) into linear RGB, with MoonRay's ImageMap colour rule, wrap modes, uv transform
//! and filtering.
//!
//! Facts from moonray `dso/map/Image/ImageMap.json`: `gamma` is off (0), on (1) or auto (2,
//! the default), and "if this is set to 'on' or 'auto' and the 'texture' file is 8-bit, then a
//! power of 2.2 will be applied to the RGB channels"; `wrap_around` (default true) repeats the
//! image at its borders, false clamps to them.

use glam::Vec3;

/// A decoded texture: linear RGB texels, row 0 at the top of the image.
#[derive(Debug, Clone, PartialEq)]
pub struct Texture {
    pub width: u32,
    pub height: u32,
    pub texels: Vec<Vec3>,
}

/// ImageMap's `gamma` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gamma {
    Off,
    On,
    Auto,
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
        let linearise = eight_bit && gamma != Gamma::Off;
        let rgb = img.into_rgb32f();
        let (width, height) = rgb.dimensions();
        if width == 0 || height == 0 {
            return Err("the image is empty".into());
        }
        let texels = rgb
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
        Ok(Texture {
            width,
            height,
            texels,
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

    /// Texel `(x, y)` (row 0 at the top), repeated or clamped outside the image.
    fn texel(&self, x: i64, y: i64, wrap: bool) -> Vec3 {
        let (w, h) = (self.width as i64, self.height as i64);
        let (x, y) = if wrap {
            (x.rem_euclid(w), y.rem_euclid(h))
        } else {
            (x.clamp(0, w - 1), y.clamp(0, h - 1))
        };
        self.texels[(y * w + x) as usize]
    }

    /// The four texels around (u, v) blended by distance from their centres (v up from the
    /// bottom row): at a texel's centre its own colour, halfway between two their mean. Past
    /// the border `wrap` blends with the opposite edge, otherwise the edge texels hold.
    pub fn bilinear(&self, u: f32, v: f32, wrap: bool) -> Vec3 {
        let x = u * self.width as f32 - 0.5;
        let y = (1.0 - v) * self.height as f32 - 0.5;
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = self
            .texel(x0, y0, wrap)
            .lerp(self.texel(x0 + 1, y0, wrap), fx);
        let bottom = self
            .texel(x0, y0 + 1, wrap)
            .lerp(self.texel(x0 + 1, y0 + 1, wrap), fx);
        top.lerp(bottom, fy)
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
    pub wrap: bool,
    pub scale: glam::Vec2,
    pub offset: glam::Vec2,
    /// Radians.
    pub rotation: f32,
    pub rotation_center: glam::Vec2,
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
        let st = self.coords(uv);
        self.texture.bilinear(st.x, st.y, self.wrap)
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

#[cfg(test)]
mod tests {
    use super::*;

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

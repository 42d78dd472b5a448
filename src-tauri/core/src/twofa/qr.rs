//! QR codes of the otpauth URI: SVG for the UI, PNG for the CLI (`twofa setup --qr-png`).

use qrcode::{Color, EcLevel, QrCode};

use super::TwofaError;

fn code(data: &str) -> Result<QrCode, TwofaError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| TwofaError::Qr(e.to_string()))
}

/// Returns the QR code as a standalone SVG document.
pub fn svg(data: &str) -> Result<String, TwofaError> {
    Ok(code(data)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

/// Returns the QR code as an 8-bit greyscale PNG, `scale` pixels per module, with the
/// 4-module quiet zone scanners need.
pub fn png(data: &str, scale: u32) -> Result<Vec<u8>, TwofaError> {
    let qr = code(data)?;
    let modules = u32::try_from(qr.width()).map_err(|e| TwofaError::Qr(e.to_string()))?;
    let colors = qr.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, c) in colors.iter().enumerate() {
        if *c != Color::Dark {
            continue;
        }
        let i = u32::try_from(i).map_err(|e| TwofaError::Qr(e.to_string()))?;
        let (mx, my) = (i % modules + quiet, i / modules + quiet);
        for y in my * scale..(my + 1) * scale {
            let row = (y * side) as usize;
            pixels[row + (mx * scale) as usize..row + ((mx + 1) * scale) as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| TwofaError::Qr(e.to_string()))?;
        w.write_image_data(&pixels)
            .map_err(|e| TwofaError::Qr(e.to_string()))?;
    }
    Ok(out)
}

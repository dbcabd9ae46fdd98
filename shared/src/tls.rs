//! Trust for encrypted transport, `amqps://` to RabbitMQ and `https://` to Blob Storage: the
//! system's root certificates, plus the CA certificates of the PEM file that
//! `MOONFARM_TLS_CA_FILE` names (a farm's private CA, or the test CA of
//! `scripts/test-ca.sh`). Certificates are always verified: there is no switch to turn that
//! off, and a server whose certificate no trusted CA signed is refused with an error that says
//! where trust comes from.

use std::path::Path;

/// The variable naming a PEM file of CA certificates to trust besides the system's.
pub const CA_FILE_VAR: &str = "MOONFARM_TLS_CA_FILE";

/// The PEM text of the extra CA certificates, when `MOONFARM_TLS_CA_FILE` is set (and not
/// empty); an error naming the variable and the file when it cannot be read or holds no
/// certificate.
pub fn extra_ca_pem() -> Result<Option<String>, String> {
    match std::env::var_os(CA_FILE_VAR) {
        Some(path) if !path.is_empty() => read_ca_pem(Path::new(&path)).map(Some),
        _ => Ok(None),
    }
}

/// Reads a PEM file of CA certificates.
pub fn read_ca_pem(path: &Path) -> Result<String, String> {
    let what = || format!("{CA_FILE_VAR}={}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", what()))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "{}: no PEM certificate in it (expected a -----BEGIN CERTIFICATE----- block)",
            what()
        ));
    }
    Ok(text)
}

/// What to add to a TLS failure's message: where the certificates a connection trusts come
/// from, and how to trust a private CA. Empty for errors that have nothing to do with it.
pub fn hint(error: &str) -> String {
    let e = error.to_ascii_lowercase();
    let about_certificates = [
        "certificate",
        "unknownissuer",
        "unknown issuer",
        "invalid peer",
    ]
    .iter()
    .any(|w| e.contains(w));
    if !about_certificates {
        return String::new();
    }
    let trusted = match std::env::var_os(CA_FILE_VAR) {
        Some(p) if !p.is_empty() => format!(
            "the system's root certificates and those of {CA_FILE_VAR}={}",
            Path::new(&p).display()
        ),
        _ => format!("the system's root certificates only ({CA_FILE_VAR} is not set)"),
    };
    format!(
        " (the server's certificate was not accepted: this process trusts {trusted}; set \
         {CA_FILE_VAR} to a PEM file holding the CA that signed the server's certificate)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_a_pem_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = read_ca_pem(&missing).unwrap_err();
        assert!(
            e.starts_with("MOONFARM_TLS_CA_FILE=") && e.contains("nope.pem"),
            "{e}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        let e = read_ca_pem(&junk).unwrap_err();
        assert!(e.contains("no PEM certificate"), "{e}");
        let good = dir.path().join("ca.pem");
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        std::fs::write(&good, pem).unwrap();
        assert_eq!(read_ca_pem(&good).unwrap(), pem);
    }

    #[test]
    fn only_certificate_failures_get_the_hint() {
        assert_eq!(hint("connection refused"), "");
        let h = hint("invalid peer certificate: UnknownIssuer");
        assert!(h.contains(CA_FILE_VAR), "{h}");
    }
}

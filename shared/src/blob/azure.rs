//! Which credential an `az://` store signs its requests with, chosen explicitly.
//!
//! `MOONFARM_AZURE_AUTH` names the way: `cli` (the user's `az login`), `service-principal`
//! (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID), `workload-identity` (AKS pods:
//! AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE from the webhook),
//! `managed-identity` (an Azure VM's metadata endpoint), `key` (AZURE_STORAGE_ACCOUNT_KEY),
//! `sas` (AZURE_STORAGE_SAS_TOKEN) or `emulator` (Azurite, also chosen by
//! AZURE_STORAGE_USE_EMULATOR=true). Unset, the way is the one kind of credential the
//! environment holds; none or several is an error that says what to set. The metadata
//! endpoint is never a silent fallback: on a laptop it only times out, five times over.
//!
//! Everything is decided from the variables, without the network, before the first request;
//! only the variables of the chosen way reach `object_store`, so a stray secret in the
//! environment cannot change which identity is used. The other AZURE_* options that
//! `object_store` knows (AZURE_STORAGE_ENDPOINT, AZURE_AUTHORITY_HOST, ...) pass through.

use object_store::azure::AzureConfigKey;
use std::fmt;

/// The variable that chooses the way.
pub const AUTH_VAR: &str = "MOONFARM_AZURE_AUTH";

/// One way of authenticating to Azure Blob Storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzureAuth {
    Cli,
    ServicePrincipal,
    WorkloadIdentity,
    ManagedIdentity,
    Key,
    Sas,
    Emulator,
}

use AzureConfigKey as K;

impl AzureAuth {
    pub const ALL: [AzureAuth; 7] = [
        AzureAuth::Cli,
        AzureAuth::ServicePrincipal,
        AzureAuth::WorkloadIdentity,
        AzureAuth::ManagedIdentity,
        AzureAuth::Key,
        AzureAuth::Sas,
        AzureAuth::Emulator,
    ];

    /// The value of MOONFARM_AZURE_AUTH that chooses this way.
    pub fn name(self) -> &'static str {
        match self {
            AzureAuth::Cli => "cli",
            AzureAuth::ServicePrincipal => "service-principal",
            AzureAuth::WorkloadIdentity => "workload-identity",
            AzureAuth::ManagedIdentity => "managed-identity",
            AzureAuth::Key => "key",
            AzureAuth::Sas => "sas",
            AzureAuth::Emulator => "emulator",
        }
    }

    /// `object_store`'s name for the credential (its `azure_credential_type`), which makes it
    /// resolve exactly this one instead of trying its own chain.
    fn credential_type(self) -> Option<&'static str> {
        match self {
            AzureAuth::Cli => Some("azure_cli"),
            AzureAuth::ServicePrincipal => Some("client_secret"),
            AzureAuth::WorkloadIdentity => Some("workload_identity"),
            AzureAuth::ManagedIdentity => Some("managed_identity"),
            AzureAuth::Key => Some("access_key"),
            AzureAuth::Sas => Some("sas_token"),
            AzureAuth::Emulator => None,
        }
    }

    /// The settings this way cannot do without (besides the account name), with the
    /// variable an error names for each.
    fn needs(self) -> &'static [(AzureConfigKey, &'static str)] {
        match self {
            AzureAuth::ServicePrincipal => &[
                (K::ClientId, "AZURE_CLIENT_ID"),
                (K::ClientSecret, "AZURE_CLIENT_SECRET"),
                (K::AuthorityId, "AZURE_TENANT_ID"),
            ],
            AzureAuth::WorkloadIdentity => &[
                (K::ClientId, "AZURE_CLIENT_ID"),
                (K::AuthorityId, "AZURE_TENANT_ID"),
                (K::FederatedTokenFile, "AZURE_FEDERATED_TOKEN_FILE"),
            ],
            AzureAuth::Key => &[(K::AccessKey, "AZURE_STORAGE_ACCOUNT_KEY")],
            AzureAuth::Sas => &[(K::SasKey, "AZURE_STORAGE_SAS_TOKEN")],
            AzureAuth::Cli | AzureAuth::ManagedIdentity | AzureAuth::Emulator => &[],
        }
    }

    /// Credential settings this way takes when they are set.
    fn may_use(self) -> &'static [AzureConfigKey] {
        match self {
            // Which of several identities on the VM; the endpoint for App Service and Arc.
            AzureAuth::ManagedIdentity => {
                &[K::ClientId, K::ObjectId, K::MsiResourceId, K::MsiEndpoint]
            }
            // Azurite takes a key or SAS of its own; without one, its well-known key.
            AzureAuth::Emulator => &[K::AccessKey, K::SasKey],
            _ => &[],
        }
    }

    /// How to get what this way needs, for errors.
    fn hint(self) -> &'static str {
        match self {
            AzureAuth::Cli => "run `az login` first; the user needs the Storage Blob Data Contributor role on the account",
            AzureAuth::ServicePrincipal => "from `az ad sp create-for-rbac` (appId, password, tenant); the principal needs the Storage Blob Data Contributor role",
            AzureAuth::WorkloadIdentity => "the AKS webhook sets them in pods labelled azure.workload.identity/use=true whose ServiceAccount has the azure.workload.identity/client-id annotation",
            AzureAuth::ManagedIdentity => "only on an Azure VM or service with a managed identity",
            AzureAuth::Key => "from `az storage account keys list`; the Moonfarm Terraform disables shared keys",
            AzureAuth::Sas => "e.g. a user delegation SAS from `az storage container generate-sas --as-user --auth-mode login`",
            AzureAuth::Emulator => "Azurite at http://127.0.0.1:10000 (AZURITE_BLOB_STORAGE_URL moves it)",
        }
    }
}

impl fmt::Display for AzureAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AzureAuth {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        let alias = match s.as_str() {
            "azure-cli" | "az" => "cli",
            "sp" | "client-secret" => "service-principal",
            "msi" => "managed-identity",
            "access-key" | "shared-key" => "key",
            "sas-token" => "sas",
            "azurite" => "emulator",
            other => other,
        };
        AzureAuth::ALL
            .into_iter()
            .find(|a| a.name() == alias)
            .ok_or_else(|| {
                format!(
                    "{AUTH_VAR}=`{s}` is not a way to authenticate: use one of {}",
                    AzureAuth::ALL.map(AzureAuth::name).join(", ")
                )
            })
    }
}

/// Settings that pick or carry a credential: only those of the chosen way are passed on.
const CREDENTIAL_KEYS: &[AzureConfigKey] = &[
    K::AccessKey,
    K::ClientId,
    K::ClientSecret,
    K::AuthorityId,
    K::SasKey,
    K::Token,
    K::FederatedTokenFile,
    K::UseAzureCli,
    K::ObjectId,
    K::MsiResourceId,
    K::MsiEndpoint,
    K::CredentialType,
    K::UseEmulator,
    K::FabricTokenServiceUrl,
    K::FabricWorkloadHost,
    K::FabricSessionToken,
    K::FabricClusterIdentifier,
];

/// What an `az://` store is opened with: the way, the account and `object_store`'s options.
/// Debug shows the option names only, never their values (keys, secrets, SAS).
#[derive(Clone)]
pub struct AzureOptions {
    pub auth: AzureAuth,
    /// How the way was chosen: `MOONFARM_AZURE_AUTH` or the variable that implied it.
    pub chosen_by: String,
    pub account: Option<String>,
    pub options: Vec<(AzureConfigKey, String)>,
}

impl fmt::Debug for AzureOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureOptions")
            .field("auth", &self.auth)
            .field("chosen_by", &self.chosen_by)
            .field("account", &self.account)
            .field("options", &self.keys())
            .finish()
    }
}

impl AzureOptions {
    /// From this process's environment.
    pub fn from_env() -> Result<AzureOptions, String> {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        AzureOptions::from_vars(vars)
    }

    /// The names of the options, for tests and Debug.
    pub fn keys(&self) -> Vec<&str> {
        self.options.iter().map(|(k, _)| k.as_ref()).collect()
    }

    /// The value of one option.
    pub fn get(&self, key: AzureConfigKey) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// From environment variables (name, value): the way, checked for what it needs.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<AzureOptions, String> {
        let mut vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        // Aliases of one option (AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_ACCESS_KEY, ...):
        // the first name in sorted order wins, the same on every run.
        vars.sort();
        let mut chosen_var = None;
        let mut path = None;
        let mut set: Vec<(AzureConfigKey, String, String)> = Vec::new();
        for (name, value) in vars {
            let key = match name.as_str() {
                AUTH_VAR => {
                    chosen_var = Some(value);
                    continue;
                }
                "PATH" => {
                    path = Some(value);
                    continue;
                }
                // Where App Service and Arc serve managed identity tokens (as object_store).
                "IDENTITY_ENDPOINT" => K::MsiEndpoint,
                n if n.starts_with("AZURE_") => match n.to_ascii_lowercase().parse() {
                    Ok(key) => key,
                    Err(_) => continue,
                },
                _ => continue,
            };
            if !set.iter().any(|(k, ..)| *k == key) {
                set.push((key, name, value));
            }
        }
        let var = |key: AzureConfigKey| set.iter().find(|(k, ..)| *k == key);
        let truthy = |key| {
            var(key).is_some_and(|(_, _, v)| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "on" | "yes" | "y"
                )
            })
        };
        let emulator = truthy(K::UseEmulator);

        let (auth, chosen_by) = match chosen_var {
            Some(v) => {
                let auth: AzureAuth = v.parse()?;
                if emulator && auth != AzureAuth::Emulator {
                    return Err(format!(
                        "AZURE_STORAGE_USE_EMULATOR says Azurite but {AUTH_VAR}={auth}: unset \
                         one of them"
                    ));
                }
                (auth, AUTH_VAR.to_string())
            }
            None if emulator => (
                AzureAuth::Emulator,
                "AZURE_STORAGE_USE_EMULATOR".to_string(),
            ),
            None => {
                // What each kind of credential is recognised by. A client id alone is not
                // one: workload identity, service principals and managed identity all use it.
                let found: Vec<(AzureAuth, String)> = [
                    (AzureAuth::Key, K::AccessKey),
                    (AzureAuth::Sas, K::SasKey),
                    (AzureAuth::WorkloadIdentity, K::FederatedTokenFile),
                    (AzureAuth::ServicePrincipal, K::ClientSecret),
                ]
                .into_iter()
                .filter_map(|(auth, key)| var(key).map(|(_, name, _)| (auth, name.clone())))
                .chain(truthy(K::UseAzureCli).then(|| {
                    let (_, name, _) = var(K::UseAzureCli).expect("truthy means set");
                    (AzureAuth::Cli, name.clone())
                }))
                .collect();
                match found.as_slice() {
                    [] => {
                        return Err(format!(
                            "no Azure credential configured: set {AUTH_VAR} to cli (your `az \
                             login`), service-principal (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, \
                             AZURE_TENANT_ID), workload-identity (AKS pods), managed-identity \
                             (Azure VMs), key (AZURE_STORAGE_ACCOUNT_KEY) or sas \
                             (AZURE_STORAGE_SAS_TOKEN)"
                        ))
                    }
                    [(auth, name)] => (*auth, name.clone()),
                    several => {
                        let names: Vec<&str> = several.iter().map(|(_, n)| n.as_str()).collect();
                        let ways: Vec<&str> = several.iter().map(|(a, _)| a.name()).collect();
                        return Err(format!(
                            "{} are all set, each a different Azure credential: set {AUTH_VAR} \
                             to one of {} to choose",
                            names.join(", "),
                            ways.join(", ")
                        ));
                    }
                }
            }
        };

        let mut missing: Vec<&str> = Vec::new();
        let account = var(K::AccountName).map(|(_, _, v)| v.clone());
        if auth != AzureAuth::Emulator && account.is_none() {
            missing.push("AZURE_STORAGE_ACCOUNT_NAME");
        }
        missing.extend(
            auth.needs()
                .iter()
                .filter(|(key, _)| var(*key).is_none())
                .map(|(_, name)| *name),
        );
        if !missing.is_empty() {
            return Err(format!(
                "Azure auth `{auth}` (chosen by {chosen_by}) needs {}: not set ({}{})",
                missing.join(", "),
                if account.is_none() && auth != AzureAuth::Emulator {
                    "AZURE_STORAGE_ACCOUNT_NAME is terraform's storage_account_name output; "
                } else {
                    ""
                },
                auth.hint()
            ));
        }
        if auth == AzureAuth::WorkloadIdentity {
            let (_, name, file) = var(K::FederatedTokenFile).expect("checked above");
            if !std::path::Path::new(file).is_file() {
                return Err(format!(
                    "{name} `{file}` is not a file: Azure auth `workload-identity` reads the \
                     pod's service account token there ({})",
                    auth.hint()
                ));
            }
        }
        if auth == AzureAuth::Cli && !cfg!(windows) {
            let on_path = path
                .as_deref()
                .is_some_and(|p| std::env::split_paths(p).any(|dir| dir.join("az").is_file()));
            if !on_path {
                return Err(format!(
                    "Azure auth `cli` (chosen by {chosen_by}) asks `az account get-access-token` \
                     for tokens, but `az` is not on PATH: install the Azure CLI and run `az \
                     login`, or choose another way in {AUTH_VAR}"
                ));
            }
        }

        let mut options: Vec<(AzureConfigKey, String)> = set
            .iter()
            .filter(|(key, ..)| {
                !CREDENTIAL_KEYS.contains(key)
                    || auth.needs().iter().any(|(k, _)| k == key)
                    || auth.may_use().contains(key)
            })
            .map(|(key, _, value)| (*key, value.clone()))
            .collect();
        match auth.credential_type() {
            Some(t) => options.push((K::CredentialType, t.to_string())),
            None => options.push((K::UseEmulator, "true".to_string())),
        }
        Ok(AzureOptions {
            auth,
            chosen_by,
            account,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn options(pairs: &[(&str, &str)]) -> Result<AzureOptions, String> {
        AzureOptions::from_vars(vars(pairs))
    }

    const ACCOUNT: (&str, &str) = ("AZURE_STORAGE_ACCOUNT_NAME", "moonfarmrenders");
    const SP: [(&str, &str); 3] = [
        ("AZURE_CLIENT_ID", "app-id"),
        ("AZURE_CLIENT_SECRET", "s3cret"),
        ("AZURE_TENANT_ID", "tenant"),
    ];

    #[test]
    fn nothing_configured_is_an_error_that_lists_the_ways() {
        let err = options(&[ACCOUNT]).unwrap_err();
        assert!(err.contains("no Azure credential configured"), "{err}");
        for way in [
            "cli",
            "service-principal",
            "workload-identity",
            "key",
            "sas",
        ] {
            assert!(err.contains(way), "{way} missing from: {err}");
        }
        // A client id alone (as a managed identity would use) chooses nothing either.
        let err = options(&[ACCOUNT, ("AZURE_CLIENT_ID", "x")]).unwrap_err();
        assert!(err.contains("no Azure credential configured"), "{err}");
    }

    #[test]
    fn cli_passes_only_the_account_and_the_cli_credential() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("az"), "").unwrap();
        let path = bin.path().to_str().unwrap();
        let o = options(&[
            ACCOUNT,
            (AUTH_VAR, "cli"),
            ("PATH", path),
            // A stray secret and key in the environment must not change the identity used.
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_STORAGE_ACCOUNT_KEY", "a2V5"),
            (
                "AZURE_STORAGE_ENDPOINT",
                "https://example.blob.core.windows.net",
            ),
        ])
        .unwrap();
        assert_eq!(o.auth, AzureAuth::Cli);
        assert_eq!(o.chosen_by, AUTH_VAR);
        assert_eq!(o.account.as_deref(), Some("moonfarmrenders"));
        assert_eq!(
            o.keys(),
            [
                "azure_storage_account_name",
                "azure_storage_endpoint",
                "azure_credential_type"
            ]
        );
        assert_eq!(o.get(K::CredentialType), Some("azure_cli"));
        assert!(!format!("{o:?}").contains("s3cret"));
    }

    #[test]
    fn cli_without_az_on_path_says_to_install_it() {
        let empty = tempfile::tempdir().unwrap();
        let path = empty.path().to_str().unwrap();
        let err = options(&[ACCOUNT, (AUTH_VAR, "azure-cli"), ("PATH", path)]).unwrap_err();
        assert!(
            err.contains("`az` is not on PATH") && err.contains("az login"),
            "{err}"
        );
    }

    #[test]
    fn a_service_principal_is_found_by_its_secret_and_checked_whole() {
        let mut env = SP.to_vec();
        env.push(ACCOUNT);
        let o = options(&env).unwrap();
        assert_eq!(o.auth, AzureAuth::ServicePrincipal);
        assert_eq!(o.chosen_by, "AZURE_CLIENT_SECRET");
        assert_eq!(o.get(K::CredentialType), Some("client_secret"));
        assert_eq!(o.get(K::ClientId), Some("app-id"));
        assert_eq!(o.get(K::AuthorityId), Some("tenant"));
        assert_eq!(o.get(K::ClientSecret), Some("s3cret"));
        assert!(!format!("{o:?}").contains("s3cret"), "{o:?}");

        let err = options(&[
            ACCOUNT,
            (AUTH_VAR, "service-principal"),
            ("AZURE_CLIENT_ID", "app-id"),
        ])
        .unwrap_err();
        assert!(
            err.contains("`service-principal` (chosen by MOONFARM_AZURE_AUTH)")
                && err.contains("needs AZURE_CLIENT_SECRET, AZURE_TENANT_ID: not set"),
            "{err}"
        );
    }

    #[test]
    fn workload_identity_needs_its_three_variables_and_a_token_file() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "jwt").unwrap();
        let token = token.to_str().unwrap();
        // What the AKS webhook injects, plus its authority host, which passes through.
        let pod = [
            ACCOUNT,
            ("AZURE_CLIENT_ID", "uami"),
            ("AZURE_TENANT_ID", "tenant"),
            ("AZURE_FEDERATED_TOKEN_FILE", token),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"),
        ];
        let o = options(&pod).unwrap();
        assert_eq!(o.auth, AzureAuth::WorkloadIdentity);
        assert_eq!(o.get(K::CredentialType), Some("workload_identity"));
        assert_eq!(o.get(K::FederatedTokenFile), Some(token));
        assert_eq!(
            o.get(K::AuthorityHost),
            Some("https://login.microsoftonline.com/")
        );
        let mut explicit = pod.to_vec();
        explicit.push((AUTH_VAR, "workload-identity"));
        assert_eq!(options(&explicit).unwrap().chosen_by, AUTH_VAR);

        let err = options(&[ACCOUNT, (AUTH_VAR, "workload-identity")]).unwrap_err();
        assert!(
            err.contains(
                "needs AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE: not set"
            ) && err.contains("azure.workload.identity/use=true"),
            "{err}"
        );
        let gone = dir.path().join("gone");
        let err = options(&[
            ACCOUNT,
            ("AZURE_CLIENT_ID", "uami"),
            ("AZURE_TENANT_ID", "tenant"),
            ("AZURE_FEDERATED_TOKEN_FILE", gone.to_str().unwrap()),
        ])
        .unwrap_err();
        assert!(
            err.contains("is not a file") && err.contains("gone"),
            "{err}"
        );
    }

    #[test]
    fn key_and_sas_are_fallbacks_taken_under_any_of_their_names() {
        let o = options(&[ACCOUNT, ("AZURE_STORAGE_ACCESS_KEY", "a2V5")]).unwrap();
        assert_eq!(o.auth, AzureAuth::Key);
        assert_eq!(o.get(K::AccessKey), Some("a2V5"));
        assert_eq!(o.get(K::CredentialType), Some("access_key"));
        let o = options(&[ACCOUNT, ("AZURE_STORAGE_SAS_TOKEN", "sv=2022&sig=x")]).unwrap();
        assert_eq!(o.auth, AzureAuth::Sas);
        assert_eq!(o.get(K::SasKey), Some("sv=2022&sig=x"));
        let err = options(&[ACCOUNT, (AUTH_VAR, "sas")]).unwrap_err();
        assert!(
            err.contains("needs AZURE_STORAGE_SAS_TOKEN: not set"),
            "{err}"
        );
        // An empty value is not a credential.
        let err = options(&[ACCOUNT, ("AZURE_STORAGE_ACCOUNT_KEY", "")]).unwrap_err();
        assert!(err.contains("no Azure credential configured"), "{err}");
    }

    #[test]
    fn several_credentials_without_a_choice_are_refused() {
        let mut env = SP.to_vec();
        env.extend([ACCOUNT, ("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")]);
        let err = options(&env).unwrap_err();
        assert!(
            err.contains("AZURE_STORAGE_ACCOUNT_KEY, AZURE_CLIENT_SECRET are all set")
                && err.contains("MOONFARM_AZURE_AUTH to one of key, service-principal"),
            "{err}"
        );
        // Choosing one resolves it, and the other's secret is not passed on.
        env.push((AUTH_VAR, "key"));
        let o = options(&env).unwrap();
        assert_eq!(o.auth, AzureAuth::Key);
        assert_eq!(o.get(K::ClientSecret), None);
        assert_eq!(o.get(K::ClientId), None);
    }

    #[test]
    fn the_account_name_is_required_except_for_azurite() {
        let err = options(&SP).unwrap_err();
        assert!(
            err.contains("needs AZURE_STORAGE_ACCOUNT_NAME: not set")
                && err.contains("storage_account_name output"),
            "{err}"
        );
        let o = options(&[("AZURE_STORAGE_USE_EMULATOR", "true")]).unwrap();
        assert_eq!(o.auth, AzureAuth::Emulator);
        assert_eq!(o.keys(), ["azure_storage_use_emulator"]);
    }

    #[test]
    fn managed_identity_is_only_used_when_asked_for() {
        let o = options(&[
            ACCOUNT,
            (AUTH_VAR, "managed-identity"),
            ("AZURE_CLIENT_ID", "uami"),
        ])
        .unwrap();
        assert_eq!(o.auth, AzureAuth::ManagedIdentity);
        assert_eq!(o.get(K::CredentialType), Some("managed_identity"));
        assert_eq!(o.get(K::ClientId), Some("uami"));
    }

    #[test]
    fn unknown_ways_and_contradictions_are_named() {
        let err = options(&[ACCOUNT, (AUTH_VAR, "password")]).unwrap_err();
        assert!(
            err.contains("MOONFARM_AZURE_AUTH=`password`")
                && err.contains("cli, service-principal, workload-identity"),
            "{err}"
        );
        let err = options(&[
            ACCOUNT,
            (AUTH_VAR, "key"),
            ("AZURE_STORAGE_USE_EMULATOR", "1"),
        ])
        .unwrap_err();
        assert!(err.contains("unset one of them"), "{err}");
    }
}

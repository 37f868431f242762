// v1 Secret of type kubernetes.io/tls: the certificate chain and key for TLS listeners.
#include <sys/stat.h>

#include "conf/base64.hpp"
#include "conf/parsers.hpp"
#include "conf/tls_certificate.hpp"

namespace svcproxy::conf {
namespace {

const std::string tls_type = "kubernetes.io/tls";

// `data` values are base64; `stringData` values are plain text and win, as in Kubernetes.
std::optional<std::string> read_key(YamlReader& reader, const Field& document,
                                    const std::string& key) {
  const Field plain = document.child("stringData").child(key);
  if (plain.present()) return reader.string(plain);
  const Field encoded = document.child("data").child(key);
  auto text = reader.string(encoded);
  if (!text) return std::nullopt;
  auto decoded = decode_base64(*text);
  if (!decoded) reader.error(encoded, "invalid base64");
  return decoded;
}

// Where a key of the Secret is written: stringData wins over data, as in Kubernetes.
Field key_field(const Field& document, const std::string& key) {
  const Field plain = document.child("stringData").child(key);
  return plain.present() ? plain : document.child("data").child(key);
}

// `ca.crt`, where a Secret has one: checked to hold certificates only.
void read_ca_bundle(YamlReader& reader, const Field& document, TlsSecret& secret) {
  const auto bundle = read_key(reader, document, "ca.crt");
  if (!bundle) return;
  if (const auto problem = check_ca_bundle(*bundle))
    reader.error(key_field(document, "ca.crt"), *problem);
  secret.ca_pem = *bundle;  // even when refused: the load fails for this one reason
}

TlsSecret new_secret(const Metadata& metadata, SourceLocation location) {
  TlsSecret secret;
  secret.namespace_name = metadata.namespace_name;
  secret.name = metadata.name;
  secret.location = std::move(location);
  return secret;
}

bool has_key(const Field& document, const std::string& key) {
  return key_field(document, key).present();
}

}  // namespace

std::optional<TlsSecret> parse_secret(YamlReader& reader, const Field& document) {
  const Field type = document.child("type");
  const std::string type_name = reader.string(type).value_or("Opaque");
  if (type_name != tls_type) {
    const Field name = document.child("metadata").child("name");
    if (!has_key(document, "ca.crt")) {
      // Not validated further: svcproxy does not use it, and it may hold anything.
      reader.warning(type.present() ? type : document,
                     "skipping Secret " + (name.node.is_scalar() ? name.node.scalar() : "?") +
                         " of type " + type_name + " (only " + tls_type +
                         " Secrets and the ca.crt of others are read)");
      return std::nullopt;
    }
    // A CA bundle for backend-ca-secret; its other keys are not svcproxy's business.
    Metadata metadata = parse_metadata(reader, document, NameRule::Dns1123Subdomain);
    TlsSecret secret = new_secret(metadata, reader.location(document));
    secret.key_pair = false;
    reader.mapping(document.child("data"));
    reader.mapping(document.child("stringData"));
    read_ca_bundle(reader, document, secret);
    return secret;
  }
  Metadata metadata = parse_metadata(reader, document, NameRule::Dns1123Subdomain);
  TlsSecret secret = new_secret(metadata, reader.location(document));
  reader.mapping(document.child("data"));  // reports a wrong type
  reader.mapping(document.child("stringData"));
  read_ca_bundle(reader, document, secret);
  auto certificate = read_key(reader, document, "tls.crt");
  auto key = read_key(reader, document, "tls.key");
  if (!certificate && !document.child("data").child("tls.crt").present())
    reader.error(document.child("data"), "a kubernetes.io/tls Secret needs tls.crt");
  if (!key && !document.child("data").child("tls.key").present())
    reader.error(document.child("data"), "a kubernetes.io/tls Secret needs tls.key");
  secret.certificate_pem = certificate.value_or("");
  secret.private_key_pem = key.value_or("");
  if (certificate && key) {
    CertificateCheck check = check_certificate(secret.certificate_pem, secret.private_key_pem);
    if (check.error) reader.error(key_field(document, check.error_key), *check.error);
    secret.dns_names = std::move(check.dns_names);
  }
  if (auto ocsp = read_key(reader, document, "tls.ocsp")) {
    if (const auto problem = check_ocsp_response(*ocsp))
      reader.error(key_field(document, "tls.ocsp"), *problem);
    secret.ocsp_der = std::move(*ocsp);
  }
  // A private key in a file other users can read is readable by every account here.
  struct stat file {};
  if (::stat(secret.location.file.c_str(), &file) == 0 && S_ISREG(file.st_mode) &&
      (file.st_mode & S_IROTH))
    reader.warning(document, "the private key of Secret " + secret.key() + " is in " +
                                 secret.location.file +
                                 ", which other users can read (chmod o-r it)");
  return secret;
}

}  // namespace svcproxy::conf

// TLS to the pods: svcproxy.io/backend-protocol (or appProtocol https), the CA Secret and
// the hostname, and what is refused before any connection is made.
#include <doctest/doctest.h>

#include "conf_test_support.hpp"
#include "tests/unit/test_certificates.hpp"

namespace svcproxy::conf {
namespace {

using testing::load_ok;
using testing::only_error;

// An Opaque Secret "pods-ca" whose ca.crt is `bundle`.
std::string ca_secret(const std::string& bundle) {
  return "---\napiVersion: v1\nkind: Secret\nmetadata: {name: pods-ca}\ntype: Opaque\n"
         "stringData:\n  ca.crt: " +
         svcproxy::testing::yaml_block(bundle.c_str()) + "  other: ignored\n";
}

// A Service "web" with the annotations given and two ports: 443 (appProtocol as given,
// absent when empty) and 9000 (appProtocol http); then the pods-ca Secret.
std::string backend_service(const std::string& annotations, const std::string& app_protocol = "",
                            const std::string& bundle = svcproxy::testing::kWebCertificate) {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations: {" + annotations +
         "}\nspec:\n  selector: {app: web}\n  ports:\n  - {name: https, port: 443" +
         (app_protocol.empty() ? std::string() : ", appProtocol: " + app_protocol) +
         "}\n  - {name: admin, port: 9000, appProtocol: http}\n" + ca_secret(bundle);
}

TEST_CASE("backend-protocol https makes every port HTTP over TLS to the pods, verified") {
  const Snapshot snapshot = load_ok(backend_service(
      "svcproxy.io/backend-protocol: https, svcproxy.io/backend-ca-secret: pods-ca, "
      "svcproxy.io/backend-tls-hostname: web.internal"));
  const Service& web = snapshot.services[0];
  CHECK((web.ports[0].backend_tls && web.ports[1].backend_tls));
  CHECK(web.ports[0].app_protocol == AppProtocol::Http);  // no appProtocol: HTTP, as AWS's
  CHECK(web.backend_tls.ca_secret == "pods-ca");
  CHECK(web.backend_tls.hostname == "web.internal");
  // The Opaque Secret is kept for its ca.crt only.
  REQUIRE(snapshot.secrets.size() == 1);
  CHECK_FALSE(snapshot.secrets[0].key_pair);
  CHECK(snapshot.secrets[0].ca_pem == svcproxy::testing::kWebCertificate);
}

TEST_CASE("appProtocol https is one port over TLS; without a CA Secret, the system's store") {
  const Snapshot snapshot =
      load_ok(backend_service("svcproxy.io/backend-tls-hostname: web.internal", "https"));
  const Service& web = snapshot.services[0];
  CHECK(web.ports[0].backend_tls);
  CHECK(web.ports[0].app_protocol == AppProtocol::Http);
  CHECK_FALSE(web.ports[1].backend_tls);
  CHECK(web.backend_tls.ca_secret.empty());
}

TEST_CASE("TLS to pods that could not be verified is refused, naming the annotation") {
  CHECK(only_error(backend_service("svcproxy.io/backend-protocol: https")) ==
        "test.yaml:5:47: metadata.annotations.svcproxy.io/backend-protocol: TLS to the pods "
        "needs svcproxy.io/backend-tls-hostname: the name their certificate is for "
        "(verification is never off)");
  CHECK(only_error(backend_service("svcproxy.io/backend-protocol: https, "
                                   "svcproxy.io/backend-tls-hostname: web.internal, "
                                   "svcproxy.io/backend-ca-secret: nope"))
            .find("svcproxy.io/backend-ca-secret: Secret default/nope not found") !=
        std::string::npos);
  CHECK(only_error(backend_service("svcproxy.io/backend-protocol: https, "
                                   "svcproxy.io/backend-tls-hostname: web.internal",
                                   "tcp"))
            .find("appProtocol tcp conflicts with svcproxy.io/backend-protocol: https") !=
        std::string::npos);
  CHECK(only_error(backend_service("svcproxy.io/backend-protocol: tls")).find("backend-protocol") !=
        std::string::npos);
  CHECK(only_error(backend_service("svcproxy.io/backend-tls-hostname: web.internal"))
            .find("needs svcproxy.io/backend-protocol: https") != std::string::npos);
  CHECK(only_error(backend_service("svcproxy.io/backend-protocol: https, "
                                   "svcproxy.io/backend-tls-hostname: Web_Internal"))
            .find("is not a DNS hostname") != std::string::npos);
  CHECK(only_error(backend_service("svcproxy.io/backend-protocol: https, "
                                   "svcproxy.io/backend-tls-hostname: web.internal, "
                                   "svcproxy.io/backend-ca-secret: pods-ca",
                                   "",
                                   "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                   "-----END CERTIFICATE-----\n"))
            .find("ca.crt: ") != std::string::npos);
}

}  // namespace
}  // namespace svcproxy::conf

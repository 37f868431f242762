// The TLS annotations of a Service: which Secrets, which ports, strict SNI, and what is
// refused before any listener opens.
#include <doctest/doctest.h>

#include "conf_test_support.hpp"
#include "tests/unit/test_certificates.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

std::string secret(const std::string& name, const char* certificate, const char* key) {
  return "---\napiVersion: v1\nkind: Secret\nmetadata: {name: " + name +
         "}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: " +
         svcproxy::testing::yaml_block(certificate) +
         "  tls.key: " + svcproxy::testing::yaml_block(key);
}

// A Service "web" with the annotations given (one line of flow mapping) and two ports:
// 443 named https and 80 named http, both appProtocol http; then the web and api Secrets.
std::string tls_service(const std::string& annotations, const std::string& app_protocol = "http") {
  return "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations: {" + annotations +
         "}\nspec:\n  selector: {app: web}\n  ports:\n"
         "  - {name: https, port: 443, targetPort: 8080, appProtocol: " +
         app_protocol + "}\n  - {name: http, port: 80, targetPort: 8080, appProtocol: http}\n" +
         secret("web-tls", svcproxy::testing::kWebCertificate, svcproxy::testing::kWebKey) +
         secret("api-tls", svcproxy::testing::kApiCertificate, svcproxy::testing::kApiKey);
}

TEST_CASE("tls-secret turns TLS on for every port, tls-ports for the ones it names") {
  const Snapshot all = load_ok(tls_service("svcproxy.io/tls-secret: 'web-tls, api-tls'"));
  const Service& web = all.services[0];
  CHECK(web.tls_secrets == std::vector<std::string>{"web-tls", "api-tls"});
  CHECK((web.ports[0].tls && web.ports[1].tls));
  CHECK_FALSE(web.tls_strict_sni);
  const Snapshot named =
      load_ok(tls_service("svcproxy.io/tls-secret: web-tls, svcproxy.io/tls-ports: https, "
                          "svcproxy.io/tls-strict-sni: 'true'"));
  CHECK(named.services[0].ports[0].tls);
  CHECK_FALSE(named.services[0].ports[1].tls);
  CHECK(named.services[0].tls_strict_sni);
  const Snapshot by_number =
      load_ok(tls_service("svcproxy.io/tls-secret: web-tls, svcproxy.io/tls-ports: '80'"));
  CHECK((!by_number.services[0].ports[0].tls && by_number.services[0].ports[1].tls));
  // An L4 port terminates TLS too and relays the decrypted bytes.
  const Snapshot l4 =
      load_ok(tls_service("svcproxy.io/tls-secret: web-tls, svcproxy.io/tls-ports: https", "tcp"));
  CHECK(l4.services[0].ports[0].tls);
  CHECK(l4.services[0].ports[0].app_protocol == AppProtocol::Tcp);
}

TEST_CASE("TLS annotations that cannot be served are errors naming the annotation") {
  CHECK(only_error(tls_service("svcproxy.io/tls-secret: nope")) ==
        "test.yaml:5:41: metadata.annotations.svcproxy.io/tls-secret: Secret default/nope not "
        "found (a kubernetes.io/tls Secret of the Service's own namespace)");
  CHECK(only_error(tls_service("svcproxy.io/tls-ports: https")) ==
        "test.yaml:5:40: metadata.annotations.svcproxy.io/tls-ports: svcproxy.io/tls-ports needs "
        "svcproxy.io/tls-secret");
  CHECK(only_error(tls_service("svcproxy.io/tls-secret: web-tls, svcproxy.io/tls-ports: '8443'"))
            .find("\"8443\" is neither the number nor the name of a port") != std::string::npos);
  CHECK(only_error(tls_service("svcproxy.io/tls-secret: 'Web_TLS'"))
            .find("\"Web_TLS\" is not a Secret name") != std::string::npos);
  CHECK(
      only_error(tls_service("svcproxy.io/tls-secret: web-tls, svcproxy.io/tls-strict-sni: 'yes'"))
          .find("must be \"true\" or \"false\"") != std::string::npos);
  // Annotations are strings: Kubernetes refuses a YAML boolean there.
  CHECK(only_error(tls_service("svcproxy.io/tls-secret: web-tls, svcproxy.io/tls-strict-sni: true"))
            .find("expected a string, got true (a YAML boolean") != std::string::npos);
}

}  // namespace
}  // namespace svcproxy::conf

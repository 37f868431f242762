#include <doctest/doctest.h>

#include "conf_test_support.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

const std::string head = "apiVersion: v1\nkind: Secret\nmetadata: {name: web-tls}\n";

TEST_CASE("a kubernetes.io/tls Secret decodes data") {
  // "CERT" and "KEY" in base64.
  const Snapshot snapshot =
      load_ok(head + "type: kubernetes.io/tls\ndata:\n  tls.crt: Q0VSVA==\n  tls.key: S0VZ\n");
  REQUIRE(snapshot.secrets.size() == 1);
  CHECK(snapshot.secrets[0].name == "web-tls");
  CHECK(snapshot.secrets[0].certificate_pem == "CERT");
  CHECK(snapshot.secrets[0].private_key_pem == "KEY");
}

TEST_CASE("stringData is read as is and wins over data") {
  const Snapshot snapshot = load_ok(head +
                                    "type: kubernetes.io/tls\ndata: {tls.crt: Q0VSVA==}\n"
                                    "stringData: {tls.crt: plain, tls.key: key}\n");
  CHECK(snapshot.secrets[0].certificate_pem == "plain");
  CHECK(snapshot.secrets[0].private_key_pem == "key");
}

TEST_CASE("invalid base64 and missing keys are errors") {
  CHECK(only_error(head + "type: kubernetes.io/tls\ndata:\n  tls.crt: Q0VSV\n  tls.key: S0VZ\n") ==
        "test.yaml:6:12: data.tls.crt: invalid base64");
  CHECK(only_error(head + "type: kubernetes.io/tls\ndata:\n  tls.crt: Q0VSVA==\n") ==
        "test.yaml:6:3: data: a kubernetes.io/tls Secret needs tls.key");
}

TEST_CASE("other Secret types are skipped with a warning") {
  const LoadResult result = load(head + "type: Opaque\ndata: {password: '!!!'}\n");
  REQUIRE(result.ok());
  CHECK(result.snapshot->secrets.empty());
  REQUIRE(result.warnings.size() == 1);
  CHECK(result.warnings[0].to_string() ==
        "test.yaml:4:7: type: skipping Secret web-tls of type Opaque (only kubernetes.io/tls is "
        "read)");
}

}  // namespace
}  // namespace svcproxy::conf

// libFuzzer harness for the configuration loader (conf/loader.hpp's load_text: the same
// path as a file's contents, without the file). Whatever the input, loading must return:
// no crash, no hang, no leak, no exception; errors are fine, and a snapshot comes only
// without them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "conf/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  const svcproxy::conf::LoadResult result = svcproxy::conf::load_text(text, "fuzz.yaml");
  if (result.ok() != result.errors.empty()) {
    std::fprintf(stderr, "load_text: a snapshot with %zu errors, or none without\n",
                 result.errors.size());
    std::abort();
  }
  // Diagnostics are printed by `svcproxy --check`: formatting them must hold too.
  std::size_t length = 0;
  for (const auto& diagnostic : result.errors)
    length += diagnostic.to_string().size();
  for (const auto& diagnostic : result.warnings)
    length += diagnostic.to_string().size();
  (void)length;
  return 0;
}

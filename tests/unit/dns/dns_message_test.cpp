#include "dns/dns_message.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace svcproxy::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& out, unsigned value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

void put_name(Bytes& out, const std::string& dotted) {
  std::size_t start = 0;
  while (start < dotted.size()) {
    auto dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), dotted.begin() + static_cast<long>(start),
               dotted.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

Bytes header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
  Bytes out;
  for (const unsigned value : {id, flags, qd, an, ns, ar})
    put16(out, value);
  return out;
}

// A query for `name` and `type`, with an OPT advertising `edns_size` when it is not 0.
Bytes query(const std::string& name, unsigned type, unsigned edns_size = 0) {
  Bytes out = header(0x1234, 0x0100, 1, 0, 0, edns_size ? 1 : 0);
  put_name(out, name);
  put16(out, type);
  put16(out, 1);
  if (edns_size) {
    out.push_back(0);
    put16(out, 41);
    put16(out, edns_size);
    for (int i = 0; i < 6; ++i)
      out.push_back(0);
  }
  return out;
}

unsigned u16_at(const Bytes& bytes, std::size_t at) {
  return bytes[at] << 8 | bytes[at + 1];
}

}  // namespace

TEST_CASE("parse_query reads one question and the EDNS0 OPT (RFC 1035 4.1, RFC 6891 6.1)") {
  const Bytes bytes = query("Web.Default.svc.cluster.local", 1, 4096);
  const ParsedQuery parsed = parse_query(bytes);
  REQUIRE(parsed.status == ParsedQuery::Status::Ok);
  CHECK(parsed.id == 0x1234);
  CHECK(parsed.recursion_desired);
  REQUIRE(parsed.question);
  CHECK(parsed.question->name == "Web.Default.svc.cluster.local");
  CHECK(parsed.question->type == 1);
  CHECK(parsed.question->klass == 1);
  REQUIRE(parsed.edns);
  CHECK(parsed.edns->udp_size == 4096);
  CHECK(udp_response_limit(parsed, 1232) == 1232);
  CHECK(udp_response_limit(parse_query(query("a", 1)), 1232) == 512);
  CHECK(udp_response_limit(parse_query(query("a", 1, 100)), 1232) == 512);  // at least 512
}

TEST_CASE("parse_query drops what has no header, and responses") {
  CHECK(parse_query(Bytes{}).status == ParsedQuery::Status::Drop);
  CHECK(parse_query(Bytes(11, 0)).status == ParsedQuery::Status::Drop);
  Bytes response = query("a.b", 1);
  response[2] |= 0x80;  // QR
  CHECK(parse_query(response).status == ParsedQuery::Status::Drop);
}

TEST_CASE("parse_query answers FORMERR for a readable header with a bad body") {
  SUBCASE("QDCOUNT must be 1") {
    CHECK(parse_query(header(1, 0, 0, 0, 0, 0)).status == ParsedQuery::Status::FormErr);
    Bytes fifty = header(1, 0, 50, 0, 0, 0);
    put_name(fifty, "a");
    put16(fifty, 1);
    put16(fifty, 1);
    CHECK(parse_query(fifty).status == ParsedQuery::Status::FormErr);
  }
  SUBCASE("truncated question") {
    Bytes bytes = query("web.default.svc.cluster.local", 1);
    for (std::size_t cut = kHeaderSize; cut < bytes.size(); ++cut)
      CHECK(parse_query(Bytes(bytes.begin(), bytes.begin() + static_cast<long>(cut))).status ==
            ParsedQuery::Status::FormErr);
  }
  SUBCASE("a compression pointer to itself, or forward") {
    Bytes self = header(1, 0, 1, 0, 0, 0);
    self.push_back(0xC0);
    self.push_back(12);  // points at itself
    put16(self, 1);
    put16(self, 1);
    CHECK(parse_query(self).status == ParsedQuery::Status::FormErr);
    Bytes forward = header(1, 0, 1, 0, 0, 0);
    forward.push_back(0xC0);
    forward.push_back(20);
    put16(forward, 1);
    put16(forward, 1);
    put_name(forward, "a");
    CHECK(parse_query(forward).status == ParsedQuery::Status::FormErr);
  }
  SUBCASE("a loop through two pointers") {
    Bytes loop = header(1, 0, 1, 0, 0, 0);
    loop.push_back(1);
    loop.push_back('a');
    loop.push_back(0xC0);
    loop.push_back(12);  // back to "a", whose run began at 12: not strictly before it
    put16(loop, 1);
    put16(loop, 1);
    CHECK(parse_query(loop).status == ParsedQuery::Status::FormErr);
  }
  SUBCASE("a label over 63 octets, a name over 255, reserved label types") {
    CHECK(parse_query(query(std::string(64, 'a'), 1)).status == ParsedQuery::Status::FormErr);
    CHECK(parse_query(query(std::string(63, 'a'), 1)).status == ParsedQuery::Status::Ok);
    std::string long_name;
    for (int i = 0; i < 5; ++i)
      long_name += std::string(i ? "." : "") + std::string(60, 'a');  // 5 * 61 + 1 > 255
    CHECK(parse_query(query(long_name, 1)).status == ParsedQuery::Status::FormErr);
    Bytes extended = header(1, 0, 1, 0, 0, 0);
    extended.push_back(0x41);
    extended.push_back(0);
    put16(extended, 1);
    put16(extended, 1);
    CHECK(parse_query(extended).status == ParsedQuery::Status::FormErr);
  }
  SUBCASE("two OPT records (RFC 6891 6.1.1)") {
    Bytes bytes = query("a", 1, 1232);
    bytes[11] = 2;
    bytes.push_back(0);
    put16(bytes, 41);
    put16(bytes, 1232);
    for (int i = 0; i < 6; ++i)
      bytes.push_back(0);
    CHECK(parse_query(bytes).status == ParsedQuery::Status::FormErr);
  }
  SUBCASE("more additional records than the message holds") {
    Bytes bytes = query("a", 1);
    bytes[11] = 50;
    CHECK(parse_query(bytes).status == ParsedQuery::Status::FormErr);
  }
}

TEST_CASE("parse_query follows a backward pointer (RFC 1035 4.1.4)") {
  // An additional A record whose owner points back at the question's name.
  Bytes bytes = query("web.dev", 1);
  bytes[11] = 1;
  bytes.push_back(0xC0);
  bytes.push_back(12);
  put16(bytes, 1);
  put16(bytes, 1);
  for (int i = 0; i < 4; ++i)
    bytes.push_back(0);
  put16(bytes, 4);
  for (int i = 0; i < 4; ++i)
    bytes.push_back(1);
  CHECK(parse_query(bytes).status == ParsedQuery::Status::Ok);
}

TEST_CASE("parse_query: other opcodes are NOTIMP, EDNS versions above 0 BADVERS") {
  Bytes notify = query("a", 6);
  notify[2] |= 4 << 3;  // opcode 4 (NOTIFY)
  CHECK(parse_query(notify).status == ParsedQuery::Status::NotImp);
  Bytes version = query("a", 1, 1232);
  version[version.size() - 5] = 1;  // the OPT's version octet
  CHECK(parse_query(version).status == ParsedQuery::Status::BadVers);
}

TEST_CASE("encode_response: flags, question echo, compression, OPT") {
  const ParsedQuery parsed = parse_query(query("web.default.svc.cluster.local", 1, 4096));
  Response response;
  response.authoritative = true;
  response.answers.push_back(*a_record("web.default.svc.cluster.local", 5, "10.96.0.10"));
  const Bytes out = encode_response(parsed, response, 1232, 1232);
  CHECK(u16_at(out, 0) == 0x1234);
  const unsigned flags = u16_at(out, 2);
  CHECK((flags & 0x8000) != 0);  // QR
  CHECK((flags & 0x0400) != 0);  // AA
  CHECK((flags & 0x0200) == 0);  // TC
  CHECK((flags & 0x0100) != 0);  // RD copied
  CHECK((flags & 0x0080) == 0);  // RA: no recursion
  CHECK((flags & 0x000F) == 0);
  CHECK(u16_at(out, 4) == 1);
  CHECK(u16_at(out, 6) == 1);
  CHECK(u16_at(out, 10) == 1);  // the OPT
  // header 12 + question 31+4 + answer (pointer 2 + 10 + 4) + OPT 11
  CHECK(out.size() == 12 + 35 + 16 + 11);
  const std::size_t answer = 12 + 35;
  CHECK(out[answer] == 0xC0);
  CHECK(out[answer + 1] == 12);
  CHECK(u16_at(out, out.size() - 10) == 41);
  CHECK(u16_at(out, out.size() - 8) == 1232);
}

TEST_CASE("encode_response truncates to the client's size and sets TC (RFC 2181 9)") {
  Response response;
  for (int i = 0; i < 100; ++i)
    response.answers.push_back(
        *a_record("headless.default.svc.cluster.local", 5, "10.0.0." + std::to_string(i)));
  SUBCASE("512 without EDNS") {
    const Bytes out = encode_response(parse_query(query("headless.default.svc.cluster.local", 1)),
                                      response, 512, 1232);
    CHECK(out.size() <= 512);
    CHECK((u16_at(out, 2) & 0x0200) != 0);
    CHECK(u16_at(out, 6) > 10);
    CHECK(u16_at(out, 6) < 100);
  }
  SUBCASE("the EDNS size, OPT kept") {
    const auto parsed = parse_query(query("headless.default.svc.cluster.local", 1, 1232));
    const Bytes out = encode_response(parsed, response, udp_response_limit(parsed, 1232), 1232);
    CHECK(out.size() <= 1232);
    CHECK(out.size() > 1000);
    CHECK((u16_at(out, 2) & 0x0200) != 0);
    CHECK(u16_at(out, 10) == 1);
  }
  SUBCASE("TCP takes them all") {
    const Bytes out = encode_response(parse_query(query("headless.default.svc.cluster.local", 1)),
                                      response, 65535, 1232);
    CHECK((u16_at(out, 2) & 0x0200) == 0);
    CHECK(u16_at(out, 6) == 100);
  }
  SUBCASE("additional records that do not fit are left off without TC") {
    Response small;
    small.answers.push_back(*a_record("a", 5, "10.0.0.1"));
    small.additional = response.answers;
    const Bytes out = encode_response(parse_query(query("a", 1)), small, 512, 1232);
    CHECK((u16_at(out, 2) & 0x0200) == 0);
    CHECK(u16_at(out, 6) == 1);
    CHECK(u16_at(out, 10) > 0);
  }
}

TEST_CASE("encode_response: BADVERS goes in the OPT's extended rcode") {
  Bytes version = query("a", 1, 1232);
  version[version.size() - 5] = 1;
  Response response;
  response.extended_rcode = 16;
  const Bytes out = encode_response(parse_query(version), response, 512, 1232);
  CHECK((u16_at(out, 2) & 0x000F) == 0);
  CHECK(out[out.size() - 6] == 1);  // 16 >> 4
}

}  // namespace svcproxy::dns

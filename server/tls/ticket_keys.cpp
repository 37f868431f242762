#include "server/tls/ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <deque>
#include <mutex>

namespace svcproxy::server {
namespace {

struct TicketKey {
  std::array<unsigned char, 16> name;
  std::array<unsigned char, 32> aes;
  std::array<unsigned char, 32> hmac;
  std::chrono::steady_clock::time_point made;
};

constexpr std::size_t kKeysKept = 3;  // the current one and two that still decrypt

class TicketRing {
 public:
  void set_rotation(std::chrono::seconds rotation) {
    std::lock_guard lock(mutex_);
    rotation_ = rotation;
  }

  // The key to encrypt with, made or rotated first when due; false if no random bytes.
  bool current(TicketKey& key) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (keys_.empty() || now - keys_.front().made >= rotation_) {
      TicketKey fresh{};
      if (RAND_bytes(fresh.name.data(), fresh.name.size()) != 1 ||
          RAND_priv_bytes(fresh.aes.data(), fresh.aes.size()) != 1 ||
          RAND_priv_bytes(fresh.hmac.data(), fresh.hmac.size()) != 1)
        return false;
      fresh.made = now;
      keys_.push_front(fresh);
      if (keys_.size() > kKeysKept) keys_.pop_back();
    }
    key = keys_.front();
    return true;
  }

  // The key named `name`: 1 when it is the current one, 2 when an older one still kept
  // (OpenSSL then issues a new ticket), 0 when it is gone.
  int find(const unsigned char* name, TicketKey& key) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
        key = keys_[i];
        return i == 0 ? 1 : 2;
      }
    return 0;
  }

 private:
  std::mutex mutex_;
  std::deque<TicketKey> keys_;
  std::chrono::seconds rotation_{std::chrono::hours(1)};
};

TicketRing& ring() {
  static TicketRing keys;
  return keys;
}

// Fetched once: EVP_aes_256_cbc() would make every EncryptInit/DecryptInit look the
// cipher up by name again (OpenSSL 3's provider fetch, ~5 k instructions per ticket).
const EVP_CIPHER* ticket_cipher() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  return cipher;
}

bool set_mac_key(EVP_MAC_CTX* mac, TicketKey& key) {
  char digest[] = "sha256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(mac, params) == 1;
}

// OpenSSL's ticket callback: RFC 5077's recommended layout (16-byte name, AES-256-CBC,
// HMAC-SHA256), as nginx's ssl_session_ticket_key does.
int ticket_callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                    EVP_MAC_CTX* mac, int encrypt) {
  TicketKey key;
  if (encrypt) {
    if (!ring().current(key) || RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    std::memcpy(name, key.name.data(), key.name.size());
    if (ticket_cipher() == nullptr ||
        EVP_EncryptInit_ex(cipher, ticket_cipher(), nullptr, key.aes.data(), iv) != 1 ||
        !set_mac_key(mac, key))
      return -1;
    return 1;
  }
  const int found = ring().find(name, key);
  if (found == 0) return 0;  // an unknown or expired key: a full handshake
  if (ticket_cipher() == nullptr || !set_mac_key(mac, key) ||
      EVP_DecryptInit_ex(cipher, ticket_cipher(), nullptr, key.aes.data(), iv) != 1)
    return -1;
  // 2 = resume and issue a new ticket. TLS 1.3 always: OpenSSL sends none after a
  // resumption otherwise, and a client (OpenSSL's included) uses a 1.3 ticket once, so
  // every other new connection was a full handshake. TLS 1.2 only for an older key.
  return SSL_version(ssl) == TLS1_3_VERSION ? 2 : found;
}

}  // namespace

void use_shared_ticket_keys(SSL_CTX* context, std::chrono::seconds rotation) {
  ring().set_rotation(rotation);
  SSL_CTX_set_tlsext_ticket_key_evp_cb(context, ticket_callback);
}

}  // namespace svcproxy::server

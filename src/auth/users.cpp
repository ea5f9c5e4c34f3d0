// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/users.hpp"

#include <fstream>

#include "sipfast/core/text_writer.hpp"

namespace sipfast::auth {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool is_hex32(std::string_view s) noexcept {
    if (s.size() != 32) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

} // namespace

std::string user_directory::key(std::string_view user, std::string_view realm) {
    // Users compare exactly (RFC 7616: username is case-sensitive), realms as host names.
    std::string k(user);
    k += '\n';
    k += lower(realm);
    return k;
}

void user_directory::add_password(std::string_view user, std::string_view realm, std::string_view password) {
    user_secret& s = users_[key(user, realm)];
    s.md5 = ha1(algorithm::md5, user, realm, password);
    s.sha256 = ha1(algorithm::sha256, user, realm, password);
    realm_sha256_.try_emplace(lower(realm), true);
}

void user_directory::add_md5_ha1(std::string_view user, std::string_view realm, std::string_view ha1_hex) {
    user_secret& s = users_[key(user, realm)];
    s.md5 = {};
    core::text_writer w(s.md5.text);
    for (char c : ha1_hex) w.put(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
    s.md5.size = static_cast<std::uint8_t>(w.size());
    s.sha256 = {};
    realm_sha256_[lower(realm)] = false;
}

const user_secret* user_directory::find(std::string_view user, std::string_view realm) const noexcept {
    // Short keys stay in the string's own buffer: no allocation for ordinary names.
    std::array<char, 256> buf{};
    core::text_writer w(buf);
    w.put(user).put('\n');
    for (char c : realm) w.put(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    if (!w.ok()) return nullptr;
    const auto it = users_.find(w.view());
    return it == users_.end() ? nullptr : &it->second;
}

bool user_directory::sha256_everywhere(std::string_view realm) const noexcept {
    std::array<char, 256> buf{};
    core::text_writer w(buf);
    for (char c : realm) w.put(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    for (const auto& [r, all] : realm_sha256_)
        if (r == w.view()) return all;
    return false;
}

std::string user_directory::load_htdigest(const std::string& path) {
    std::ifstream in(path);
    if (!in) return path + ":0: cannot be read";
    std::string line;
    for (std::uint32_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        const std::size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos || a == 0 || b == a + 1)
            return path + ":" + std::to_string(n) + ": expected user:realm:HA1";
        const std::string_view l(line);
        const std::string_view ha = l.substr(b + 1);
        if (!is_hex32(ha)) return path + ":" + std::to_string(n) + ": HA1 is not 32 hex digits (MD5)";
        add_md5_ha1(l.substr(0, a), l.substr(a + 1, b - a - 1), ha);
    }
    return {};
}

} // namespace sipfast::auth

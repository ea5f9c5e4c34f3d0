// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/subscribers.hpp"

#include <algorithm>


namespace sipfast::auth {

bool subscriber::owns(std::string_view aor_key) const noexcept {
    return std::find(impus.begin(), impus.end(), aor_key) != impus.end();
}

std::string subscriber_directory::add(std::string_view impi, std::vector<std::string> impu_keys, const block& k,
                                      const block& opc, const amf_bytes& amf, std::uint64_t seq_he) {
    if (impi.empty()) return "an IMPI is required";
    if (by_impi_.count(impi) != 0) return "IMPI '" + std::string(impi) + "' is given twice";
    if (impu_keys.empty()) return "at least one IMPU is required";
    for (const std::string& key : impu_keys)
        if (by_impu_.count(key) != 0) return "IMPU '" + key + "' belongs to another subscriber";
    const subscriber& s = list_.emplace_back(std::string(impi), std::move(impu_keys), milenage(k, opc), amf, seq_he);
    by_impi_.emplace(s.impi, &s);
    for (const std::string& key : s.impus) by_impu_.emplace(key, &s);
    return {};
}

const subscriber* subscriber_directory::by_impi(std::string_view impi) const noexcept {
    const auto it = by_impi_.find(impi);
    return it == by_impi_.end() ? nullptr : it->second;
}

const subscriber* subscriber_directory::by_impu(std::string_view aor_key) const noexcept {
    const auto it = by_impu_.find(aor_key);
    return it == by_impu_.end() ? nullptr : it->second;
}

} // namespace sipfast::auth

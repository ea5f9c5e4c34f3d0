// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/header_id.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <emmintrin.h>

namespace sipfast::sip {
namespace {

struct known_name {
    std::string_view lower;  // lower-case spelling compared against
    header_id id;
    std::string_view canonical;
};

// Full names, then compact forms (RFC 3261 §7.3.3 and the IANA SIP header registry).
constexpr known_name known_names[] = {
    {"accept", header_id::accept, "Accept"},
    {"accept-contact", header_id::accept_contact, "Accept-Contact"},
    {"accept-encoding", header_id::accept_encoding, "Accept-Encoding"},
    {"accept-language", header_id::accept_language, "Accept-Language"},
    {"alert-info", header_id::alert_info, "Alert-Info"},
    {"allow", header_id::allow, "Allow"},
    {"allow-events", header_id::allow_events, "Allow-Events"},
    {"authentication-info", header_id::authentication_info, "Authentication-Info"},
    {"authorization", header_id::authorization, "Authorization"},
    {"call-id", header_id::call_id, "Call-ID"},
    {"call-info", header_id::call_info, "Call-Info"},
    {"contact", header_id::contact, "Contact"},
    {"content-disposition", header_id::content_disposition, "Content-Disposition"},
    {"content-encoding", header_id::content_encoding, "Content-Encoding"},
    {"content-language", header_id::content_language, "Content-Language"},
    {"content-length", header_id::content_length, "Content-Length"},
    {"content-type", header_id::content_type, "Content-Type"},
    {"cseq", header_id::cseq, "CSeq"},
    {"date", header_id::date, "Date"},
    {"error-info", header_id::error_info, "Error-Info"},
    {"event", header_id::event, "Event"},
    {"expires", header_id::expires, "Expires"},
    {"flow-timer", header_id::flow_timer, "Flow-Timer"},
    {"from", header_id::from, "From"},
    {"identity", header_id::identity, "Identity"},
    {"identity-info", header_id::identity_info, "Identity-Info"},
    {"in-reply-to", header_id::in_reply_to, "In-Reply-To"},
    {"max-forwards", header_id::max_forwards, "Max-Forwards"},
    {"mime-version", header_id::mime_version, "MIME-Version"},
    {"min-expires", header_id::min_expires, "Min-Expires"},
    {"min-se", header_id::min_se, "Min-SE"},
    {"organization", header_id::organization, "Organization"},
    {"p-access-network-info", header_id::p_access_network_info, "P-Access-Network-Info"},
    {"p-asserted-identity", header_id::p_asserted_identity, "P-Asserted-Identity"},
    {"p-associated-uri", header_id::p_associated_uri, "P-Associated-URI"},
    {"p-called-party-id", header_id::p_called_party_id, "P-Called-Party-ID"},
    {"p-charging-function-addresses", header_id::p_charging_function_addresses,
     "P-Charging-Function-Addresses"},
    {"p-charging-vector", header_id::p_charging_vector, "P-Charging-Vector"},
    {"p-preferred-identity", header_id::p_preferred_identity, "P-Preferred-Identity"},
    {"p-visited-network-id", header_id::p_visited_network_id, "P-Visited-Network-ID"},
    {"path", header_id::path, "Path"},
    {"priority", header_id::priority, "Priority"},
    {"privacy", header_id::privacy, "Privacy"},
    {"proxy-authenticate", header_id::proxy_authenticate, "Proxy-Authenticate"},
    {"proxy-authorization", header_id::proxy_authorization, "Proxy-Authorization"},
    {"proxy-require", header_id::proxy_require, "Proxy-Require"},
    {"rack", header_id::rack, "RAck"},
    {"reason", header_id::reason, "Reason"},
    {"record-route", header_id::record_route, "Record-Route"},
    {"refer-to", header_id::refer_to, "Refer-To"},
    {"referred-by", header_id::referred_by, "Referred-By"},
    {"reject-contact", header_id::reject_contact, "Reject-Contact"},
    {"replaces", header_id::replaces, "Replaces"},
    {"reply-to", header_id::reply_to, "Reply-To"},
    {"request-disposition", header_id::request_disposition, "Request-Disposition"},
    {"require", header_id::require, "Require"},
    {"retry-after", header_id::retry_after, "Retry-After"},
    {"route", header_id::route, "Route"},
    {"rseq", header_id::rseq, "RSeq"},
    {"security-client", header_id::security_client, "Security-Client"},
    {"security-server", header_id::security_server, "Security-Server"},
    {"security-verify", header_id::security_verify, "Security-Verify"},
    {"server", header_id::server, "Server"},
    {"service-route", header_id::service_route, "Service-Route"},
    {"session-expires", header_id::session_expires, "Session-Expires"},
    {"subject", header_id::subject, "Subject"},
    {"subscription-state", header_id::subscription_state, "Subscription-State"},
    {"supported", header_id::supported, "Supported"},
    {"timestamp", header_id::timestamp, "Timestamp"},
    {"to", header_id::to, "To"},
    {"unsupported", header_id::unsupported, "Unsupported"},
    {"user-agent", header_id::user_agent, "User-Agent"},
    {"via", header_id::via, "Via"},
    {"warning", header_id::warning, "Warning"},
    {"www-authenticate", header_id::www_authenticate, "WWW-Authenticate"},
    // compact forms
    {"a", header_id::accept_contact, "Accept-Contact"},
    {"b", header_id::referred_by, "Referred-By"},
    {"c", header_id::content_type, "Content-Type"},
    {"d", header_id::request_disposition, "Request-Disposition"},
    {"e", header_id::content_encoding, "Content-Encoding"},
    {"f", header_id::from, "From"},
    {"i", header_id::call_id, "Call-ID"},
    {"j", header_id::reject_contact, "Reject-Contact"},
    {"k", header_id::supported, "Supported"},
    {"l", header_id::content_length, "Content-Length"},
    {"m", header_id::contact, "Contact"},
    {"n", header_id::identity_info, "Identity-Info"},
    {"o", header_id::event, "Event"},
    {"r", header_id::refer_to, "Refer-To"},
    {"s", header_id::subject, "Subject"},
    {"t", header_id::to, "To"},
    {"u", header_id::allow_events, "Allow-Events"},
    {"v", header_id::via, "Via"},
    {"x", header_id::session_expires, "Session-Expires"},
    {"y", header_id::identity, "Identity"},
};

constexpr std::size_t table_bits = 9;
constexpr std::size_t table_size = std::size_t{1} << table_bits;

// ASCII lower case through a table: letters fold, every other byte stays itself, so no byte outside
// a name can be taken for one of its letters.
struct fold_table {
    unsigned char v[256];
};
constexpr fold_table make_fold() {
    fold_table t{};
    for (unsigned c = 0; c < 256; ++c) t.v[c] = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return t;
}
constexpr fold_table folded = make_fold();
constexpr unsigned fold(char c) noexcept { return folded.v[static_cast<unsigned char>(c)]; }

// Three characters and the length separate every known name; the constants were chosen so that
// each name lands in its own slot (checked below), which makes a lookup one probe and one compare.
constexpr std::size_t hash(std::string_view s) noexcept {
    const std::size_t n = s.size();
    const unsigned a = fold(s[0]);
    const unsigned b = fold(s[n - 1]);
    const unsigned c = fold(s[n / 2]);
    return (n * 18 + a * 3 + b * 13 + c) & (table_size - 1);
}

struct slot {
    std::uint8_t entry = 0xff;  // index into known_names, 0xff when empty
};

constexpr std::array<slot, table_size> build_table() {
    std::array<slot, table_size> t{};
    for (std::size_t i = 0; i < std::size(known_names); ++i) {
        auto& s = t[hash(known_names[i].lower)];
        if (s.entry != 0xff) throw "header name hash collision";  // compile-time error
        s.entry = static_cast<std::uint8_t>(i);
    }
    return t;
}

constexpr auto table = build_table();

constexpr std::string_view canonical_names[header_id_count] = {
    "", "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length", "Content-Type",
    "CSeq", "Date", "Error-Info", "Event", "Expires", "Flow-Timer", "From", "Identity",
    "Identity-Info", "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires", "Min-SE",
    "Organization", "P-Access-Network-Info", "P-Asserted-Identity", "P-Associated-URI",
    "P-Called-Party-ID", "P-Charging-Function-Addresses", "P-Charging-Vector",
    "P-Preferred-Identity", "P-Visited-Network-ID", "Path", "Priority", "Privacy",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "RAck", "Reason", "Record-Route",
    "Refer-To", "Referred-By", "Reject-Contact", "Replaces", "Reply-To", "Request-Disposition",
    "Require", "Retry-After", "Route", "RSeq", "Security-Client", "Security-Server",
    "Security-Verify", "Server", "Service-Route", "Session-Expires", "Subject",
    "Subscription-State", "Supported", "Timestamp", "To", "Unsupported", "User-Agent", "Via",
    "Warning", "WWW-Authenticate",
};

constexpr bool canonical_names_agree() {
    for (const auto& k : known_names)
        if (canonical_names[static_cast<std::size_t>(k.id)] != k.canonical) return false;
    return true;
}
static_assert(canonical_names_agree(), "canonical_names out of step with header_id");

template <std::size_t N>
std::uint64_t load(const char* p) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, N);
    return v;
}

// Whether n bytes at a equal the lower-case bytes at b, ignoring case: OR-ing 0x20 folds letters,
// and rejecting bytes below 0x20 stops control bytes from passing for digits or '-' (0x0D | 0x20 is
// '-'). hasless(x, 0x20) from "Bit Twiddling Hacks" finds such bytes eight at a time.
template <std::size_t N>
bool chunk_equal(const char* a, const char* b) noexcept {
    const std::uint64_t x = load<N>(a);
    const std::uint64_t y = load<N>(b);
    const std::uint64_t ones = N == 8 ? 0x0101010101010101ull : 0x01010101ull;
    const bool control = ((x - ones * 0x20) & ~x & (ones * 0x80)) != 0;
    return (x | (ones * 0x20)) == y && !control;
}

bool equal_folded(std::string_view name, std::string_view lower) noexcept {
    const std::size_t n = name.size();
    const char* a = name.data();
    const char* b = lower.data();
    if (n >= 8) {  // whole words, the last one overlapping the previous so no byte is read twice out of bounds
        for (std::size_t i = 0; i + 8 < n; i += 8)
            if (!chunk_equal<8>(a + i, b + i)) return false;
        return chunk_equal<8>(a + n - 8, b + n - 8);
    }
    if (n >= 4) return chunk_equal<4>(a, b) && chunk_equal<4>(a + n - 4, b + n - 4);
    for (std::size_t i = 0; i < n; ++i)
        if (fold(a[i]) != static_cast<unsigned char>(b[i])) return false;
    return true;
}

// Names of up to sixteen bytes (all but 13 of the 95) are found from one 16-byte load at the name:
// the bytes folded to lower case, those past the name set to '@', the two halves hashed by
// multiplication into a table of 16-byte entries, and one compare of the whole load with the entry.
// Only letters fold (bytes 0x40-0x7F get 0x20), so no other byte can pass for a letter or '-' (an
// OR of 0x20 alone would take CR for '-'); and no byte folds onto '@', so a name shorter or longer
// than the entry's, or holding a NUL, never matches its padding.
constexpr std::size_t short_name_max = 16;
constexpr std::size_t fast_bits = 9;
constexpr std::size_t fast_size = std::size_t{1} << fast_bits;
constexpr char pad_byte = '@';

struct fast_name {
    alignas(16) char folded[16];
};

// The halves of a name's 16-byte image: its lower-case bytes, '@' past its length.
struct halves {
    std::uint64_t lo, hi;
};

constexpr halves image_of(std::string_view lower) {
    halves h{0, 0};
    for (std::size_t j = 0; j < 16; ++j) {
        const std::uint64_t b = static_cast<unsigned char>(j < lower.size() ? lower[j] : pad_byte);
        (j < 8 ? h.lo : h.hi) |= b << (8 * (j & 7));
    }
    return h;
}

constexpr std::size_t fast_slot(halves h, std::uint64_t k1, std::uint64_t k2) noexcept {
    return static_cast<std::size_t>(((h.lo * k1) ^ (h.hi * k2)) >> (64 - fast_bits));
}

// The multipliers: the first pair from a fixed sequence that gives every short name its own slot,
// found at compile time so that adding a name never needs a constant chosen by hand.
struct multipliers {
    std::uint64_t k1, k2;
};

constexpr multipliers find_multipliers() {
    std::uint64_t state = 0x9e3779b97f4a7c15ull;
    const auto next = [&state] {  // splitmix64
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return (z ^ (z >> 31)) | 1;
    };
    for (int attempt = 0; attempt < 100000; ++attempt) {
        const multipliers m{next(), next()};
        std::uint64_t used[fast_size / 64]{};
        bool clash = false;
        for (const auto& k : known_names) {
            if (k.lower.size() > short_name_max) continue;
            const std::size_t i = fast_slot(image_of(k.lower), m.k1, m.k2);
            clash = (used[i / 64] >> (i % 64)) & 1;
            if (clash) break;
            used[i / 64] |= std::uint64_t{1} << (i % 64);
        }
        if (!clash) return m;
    }
    throw "no multipliers give every short header name its own slot";  // compile-time error
}

constexpr multipliers fast_k = find_multipliers();

struct fast_table {
    fast_name names[fast_size];
    header_id ids[fast_size];
};

constexpr fast_table build_fast() {
    fast_table t{};
    for (auto& n : t.names)  // an empty slot matches no name: no byte folds onto '@'
        for (char& c : n.folded) c = pad_byte;
    for (const auto& k : known_names) {
        if (k.lower.size() > short_name_max) continue;
        const std::size_t i = fast_slot(image_of(k.lower), fast_k.k1, fast_k.k2);
        for (std::size_t j = 0; j < k.lower.size(); ++j) t.names[i].folded[j] = k.lower[j];
        t.ids[i] = k.id;
    }
    return t;
}

constexpr fast_table fast = build_fast();

// Per length: which bytes of a 16-byte load belong to the name (0xff), and '@' for those past it.
struct length_masks {
    alignas(16) std::uint8_t keep[short_name_max + 1][16];
    alignas(16) std::uint8_t pad[short_name_max + 1][16];
};

constexpr length_masks build_masks() {
    length_masks m{};
    for (std::size_t n = 0; n <= short_name_max; ++n)
        for (std::size_t j = 0; j < 16; ++j) {
            m.keep[n][j] = j < n ? 0xff : 0;
            m.pad[n][j] = j < n ? 0 : static_cast<std::uint8_t>(pad_byte);
        }
    return m;
}

constexpr length_masks masks = build_masks();

header_id classify(std::string_view name, std::size_t readable) noexcept {
    const std::size_t n = name.size();
    if (n - 1 < short_name_max && readable >= 16) {  // n - 1 wraps for the empty name
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(name.data()));
        // Bytes 0x40-0x7F get 0x20 (a signed compare: bytes from 0x80 are below and stay).
        const __m128i letters = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x3f));
        const __m128i lower = _mm_or_si128(v, _mm_and_si128(letters, _mm_set1_epi8(0x20)));
        const __m128i image = _mm_or_si128(_mm_and_si128(lower, _mm_load_si128(reinterpret_cast<const __m128i*>(masks.keep[n]))),
                                           _mm_load_si128(reinterpret_cast<const __m128i*>(masks.pad[n])));
        const halves h{static_cast<std::uint64_t>(_mm_cvtsi128_si64(image)),
                       static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(image, image)))};
        const std::size_t i = fast_slot(h, fast_k.k1, fast_k.k2);
        const __m128i want = _mm_load_si128(reinterpret_cast<const __m128i*>(fast.names[i].folded));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(image, want)) == 0xffff ? fast.ids[i] : header_id::other;
    }
    // Long names and names at the end of what may be read: one probe of the three-character hash.
    if (n == 0) return header_id::other;
    const slot s = table[hash(name)];
    if (s.entry == 0xff) return header_id::other;
    const known_name& k = known_names[s.entry];
    return k.lower.size() == n && equal_folded(name, k.lower) ? k.id : header_id::other;
}

} // namespace

header_id classify_header_name(std::string_view name) noexcept { return classify(name, name.size()); }

header_id classify_header_name(std::string_view name, std::size_t readable) noexcept {
    return classify(name, readable);
}

std::string_view header_name(header_id id) noexcept {
    const auto i = static_cast<std::size_t>(id);
    return i < header_id_count ? canonical_names[i] : std::string_view{};
}

} // namespace sipfast::sip

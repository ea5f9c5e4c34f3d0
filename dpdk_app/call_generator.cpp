// SPDX-License-Identifier: Apache-2.0
#include "call_generator.hpp"

#include <algorithm>
#include <charconv>

#include "sipfast/core/text_writer.hpp"

namespace sipfast::dpdk {

namespace {

constexpr std::string_view sdp =
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 198.18.0.9\r\ns=-\r\nc=IN IP4 198.18.0.9\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool same_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

/// One header line of a message: its name (full form) and the whole line without CRLF.
struct header_line {
    std::string_view name;
    std::string_view value;
    std::string_view line;
};

/// Walks the header lines of `text` (no folding: the proxy and we write none).
class header_walk {
public:
    explicit header_walk(std::string_view text) noexcept : rest_(text) { (void)next_line(); }  // the start line
    bool next(header_line& h) noexcept {
        const std::string_view line = next_line();
        if (line.empty()) return false;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return next(h);
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        static constexpr std::pair<std::string_view, std::string_view> compact[] = {
            {"v", "Via"}, {"f", "From"}, {"t", "To"}, {"i", "Call-ID"}, {"m", "Contact"}};
        for (const auto& [c, full] : compact)
            if (same_name(name, c)) name = full;
        h = {name, value, line};
        return true;
    }

private:
    std::string_view next_line() noexcept {
        const std::size_t end = rest_.find("\r\n");
        if (end == std::string_view::npos) {
            const std::string_view all = rest_;
            rest_ = {};
            return all;
        }
        const std::string_view line = rest_.substr(0, end);
        rest_.remove_prefix(end + 2);
        return line;
    }
    std::string_view rest_;
};

// "GEN-SLOT-g@host" -> slot and generation.
bool call_id_slot(std::string_view call_id, std::uint32_t& generation, std::uint32_t& index) noexcept {
    const char* p = call_id.data();
    const char* end = p + call_id.size();
    auto r = std::from_chars(p, end, generation);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '-') return false;
    r = std::from_chars(r.ptr + 1, end, index);
    return r.ec == std::errc() && r.ptr != end && *r.ptr == '-';
}

} // namespace

call_generator::call_generator(const config& c) : c_(c), slots_(c.window) {
    for (std::uint32_t i = c.window; i-- > 0;) free_.push_back(i);
    setup_ns_.reserve(1 << 20);
    proxy_text_ = core::format_host(c_.proxy, proxy_host_);
    alice_text_ = core::format_host(c_.alice, alice_host_);
    bob_text_ = core::format_host(c_.bob, bob_host_);
}

core::net_address call_generator::alice_at(std::uint32_t index) const noexcept {
    core::net_address a = c_.alice;
    a.port = static_cast<std::uint16_t>(c_.alice.port + index % 1000);
    return a;
}

std::span<const call_generator::message> call_generator::start_calls(std::uint64_t now_ns) {
    used_ = count_ = 0;
    while (!free_.empty() && count_ < out_.size()) {
        const std::uint32_t index = free_.back();
        if (!invite(index, now_ns)) break;
        free_.pop_back();
    }
    return {out_.data(), count_};
}

bool call_generator::invite(std::uint32_t index, std::uint64_t now_ns) {
    slot& s = slots_[index];
    const core::net_address from = alice_at(index);
    core::text_writer w{std::span(arena_).subspan(used_)};
    const std::uint32_t gen = s.generation + 1;
    w.put("INVITE sip:bob@").put(c_.domain).put(" SIP/2.0\r\nVia: SIP/2.0/UDP ").put(alice_text_).put(':').number(from.port);
    w.put(";branch=z9hG4bK-").number(gen).put('-').number(index).put("-i;rport\r\nMax-Forwards: 70\r\n");
    w.put("From: \"Alice\" <sip:alice@").put(c_.domain).put(">;tag=a").number(gen).put("\r\nTo: <sip:bob@").put(c_.domain);
    w.put(">\r\nCall-ID: ").number(gen).put('-').number(index).put("-g@").put(alice_text_);
    w.put("\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@").put(alice_text_).put(':').number(from.port);
    w.put(">\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nUser-Agent: sipfast-dpdk generator\r\n");
    w.put("Content-Type: application/sdp\r\nContent-Length: ").number(sdp.size()).put("\r\n\r\n").put(sdp);
    if (!w.ok()) return false;
    s.generation = gen;
    s.started_ns = s.invited_ns = now_ns;
    ++started_;
    out_[count_] = {from, w.view()};
    used_ += w.size();
    ++count_;
    return true;
}

std::span<const call_generator::message> call_generator::on_message(const core::net_address& to, std::string_view text,
                                                                    std::uint64_t now_ns) {
    used_ = count_ = 0;
    if (to.ip == c_.bob.ip && to.port == c_.bob.port) answer_as_bob(text);
    else if (to.ip == c_.alice.ip) answer_as_alice(text, now_ns);
    return {out_.data(), count_};
}

// Bob: 180 and 200 to an INVITE, 200 to a BYE, nothing to an ACK.
void call_generator::answer_as_bob(std::string_view text) {
    const bool invite = text.starts_with("INVITE ");
    if (!invite && !text.starts_with("BYE ")) return;
    std::string_view call_id;
    header_walk walk(text);
    for (header_line h; walk.next(h);)
        if (h.name == "Call-ID") call_id = h.value;
    std::uint32_t gen = 0, index = 0;
    if (!call_id_slot(call_id, gen, index)) return;
    static constexpr int invite_answers[] = {180, 200};
    static constexpr int bye_answers[] = {200};
    for (int code : invite ? std::span<const int>(invite_answers) : std::span<const int>(bye_answers)) {
        if (count_ == out_.size()) return;
        core::text_writer w{std::span(arena_).subspan(used_)};
        w.put(code == 180 ? "SIP/2.0 180 Ringing\r\n" : "SIP/2.0 200 OK\r\n");
        header_walk copy(text);
        for (header_line h; copy.next(h);) {
            if (h.name == "Via" || h.name == "From" || h.name == "Call-ID" || h.name == "CSeq" ||
                (invite && h.name == "Record-Route"))
                w.put(h.line).put("\r\n");
            else if (h.name == "To" && invite)
                w.put(h.line).put(";tag=b").number(gen).put("\r\n");
            else if (h.name == "To")
                w.put(h.line).put("\r\n");
        }
        if (invite && code == 200) {
            w.put("Contact: <sip:bob@").put(bob_text_).put(':').number(c_.bob.port).put(">\r\n");
            w.put("Content-Type: application/sdp\r\nContent-Length: ").number(sdp.size()).put("\r\n\r\n").put(sdp);
        } else {
            w.put("Content-Length: 0\r\n\r\n");
        }
        if (!w.ok()) return;
        out_[count_++] = {c_.bob, w.view()};
        used_ += w.size();
    }
}

// Alice: on the INVITE's 200, ACK and hang up at once (BYE); on the BYE's 200 the call is done; a
// final failure ends the call as failed.
void call_generator::answer_as_alice(std::string_view text, std::uint64_t now_ns) {
    if (!text.starts_with("SIP/2.0 ") || text.size() < 11) return;
    const int code = (text[8] - '0') * 100 + (text[9] - '0') * 10 + (text[10] - '0');
    if (code < 200) return;
    std::string_view call_id, cseq, from, to, contact;
    std::array<std::string_view, 8> record_route{};
    std::size_t routes = 0;
    header_walk walk(text);
    for (header_line h; walk.next(h);) {
        if (h.name == "Call-ID") call_id = h.value;
        else if (h.name == "CSeq") cseq = h.value;
        else if (h.name == "From") from = h.line;
        else if (h.name == "To") to = h.line;
        else if (h.name == "Contact") contact = h.value;
        else if (same_name(h.name, "Record-Route") && routes < record_route.size()) record_route[routes++] = h.value;
    }
    std::uint32_t gen = 0, index = 0;
    if (!call_id_slot(call_id, gen, index) || index >= slots_.size() || slots_[index].generation != gen ||
        slots_[index].started_ns == 0)
        return;  // late, for a call already given up
    const bool for_invite = cseq.ends_with("INVITE");
    if (!for_invite) {
        finish(index, code < 300);
        return;
    }
    if (code >= 300) {  // the proxy answers this one's ACK hop by hop; ours goes to it the same way
        finish(index, false);
        return;
    }
    if (setup_ns_.size() < setup_ns_.capacity())
        setup_ns_.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(now_ns - slots_[index].invited_ns, 0xffffffffu)));
    // The target is the 200's Contact; the route set is its Record-Route, reversed (RFC 3261 §12.1.2).
    const std::size_t lt = contact.find('<'), gt = contact.find('>');
    const std::string_view target = (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt)
                                        ? contact.substr(lt + 1, gt - lt - 1)
                                        : contact;
    const core::net_address me = alice_at(index);
    for (const std::string_view method : {std::string_view("ACK"), std::string_view("BYE")}) {
        core::text_writer w{std::span(arena_).subspan(used_)};
        w.put(method).put(' ').put(target).put(" SIP/2.0\r\nVia: SIP/2.0/UDP ").put(alice_text_).put(':').number(me.port);
        w.put(";branch=z9hG4bK-").number(gen).put('-').number(index).put(method == "ACK" ? "-a" : "-b").put(";rport\r\n");
        for (std::size_t r = routes; r-- > 0;) w.put("Route: ").put(record_route[r]).put("\r\n");
        w.put("Max-Forwards: 70\r\n").put(from).put("\r\n").put(to).put("\r\nCall-ID: ").put(call_id).put("\r\nCSeq: ");
        w.put(method == "ACK" ? "1 ACK" : "2 BYE").put("\r\nContent-Length: 0\r\n\r\n");
        if (!w.ok() || count_ == out_.size()) return;
        out_[count_++] = {me, w.view()};
        used_ += w.size();
    }
}

void call_generator::finish(std::uint32_t index, bool ok) {
    slots_[index].started_ns = 0;
    free_.push_back(index);
    ++(ok ? completed_ : failed_);
}

void call_generator::expire(std::uint64_t now_ns) {
    for (std::uint32_t i = 0; i < slots_.size(); ++i)
        if (slots_[i].started_ns != 0 && now_ns - slots_[i].started_ns > c_.timeout_ns) finish(i, false);
}

} // namespace sipfast::dpdk

// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/editor.hpp"

#include <cstring>

#include "lex.hpp"
#include "sipfast/core/text_writer.hpp"

namespace sipfast::sip {

edit_error message_editor::replace(std::string_view range, std::string_view text) noexcept {
    const char* base = original_.data();
    if (range.data() < base || range.data() + range.size() > base + original_.size())
        return edit_error::outside_message;
    if (count_ == max_edits) return edit_error::too_many_edits;
    const auto begin = static_cast<std::uint32_t>(range.data() - base);
    const auto end = static_cast<std::uint32_t>(begin + range.size());
    // Kept sorted by position; edits at the same position keep the order they were made in, and an
    // insert goes before the bytes replaced from there.
    std::size_t at = count_;
    while (at > 0 && (edits_[at - 1].begin > begin || (edits_[at - 1].begin == begin && edits_[at - 1].end > begin))) --at;
    // Two edits clash when they share a byte, or when one is an insert strictly inside the other's
    // replaced bytes (there is no "inside" of bytes that are gone). Sorted edits that do not clash
    // have their ends in order too, so an edit that clashes with any clashes with a neighbour.
    const auto clash = [&](const edit& e) {
        const bool share = begin < e.end && e.begin < end;
        const bool insert_inside = (begin == end && e.begin < begin && begin < e.end) ||
                                   (e.begin == e.end && begin < e.begin && e.begin < end);
        return share || insert_inside;
    };
    if ((at > 0 && clash(edits_[at - 1])) || (at < count_ && clash(edits_[at]))) return edit_error::overlapping;
    for (std::size_t i = count_; i > at; --i) edits_[i] = edits_[i - 1];
    edits_[at] = edit{begin, end, text, static_cast<std::uint32_t>(count_)};
    ++count_;
    return edit_error::none;
}

void message_editor::rewind(const mark& m) noexcept {
    // Edits made before the mark have `made` below m.edits whatever has been inserted since.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < count_; ++i)
        if (edits_[i].made < m.edits) edits_[kept++] = edits_[i];
    count_ = kept;
    scratch_used_ = m.scratch;
}

std::string_view message_editor::keep(std::initializer_list<std::string_view> parts, edit_error& err) noexcept {
    std::size_t n = 0;
    for (std::string_view p : parts) n += p.size();
    if (n > scratch_.size() - scratch_used_) {
        err = edit_error::scratch_full;
        return {};
    }
    char* out = scratch_.data() + scratch_used_;
    std::size_t k = 0;
    for (std::string_view p : parts) {
        if (!p.empty()) std::memcpy(out + k, p.data(), p.size());
        k += p.size();
    }
    scratch_used_ += n;
    return {out, n};
}

std::string_view message_editor::keep_number(std::uint64_t value, edit_error& err) noexcept {
    return keep({core::decimal(value)}, err);
}

std::size_t message_editor::size() const noexcept {
    std::size_t n = original_.size();
    for (std::size_t i = 0; i < count_; ++i) n = n - (edits_[i].end - edits_[i].begin) + edits_[i].text.size();
    return n;
}

std::size_t message_editor::serialize(std::span<char> out) const noexcept {
    const std::size_t total = size();
    if (total > out.size()) return 0;
    char* w = out.data();
    std::size_t from = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        const edit& e = edits_[i];
        std::memcpy(w, original_.data() + from, e.begin - from);
        w += e.begin - from;
        if (!e.text.empty()) std::memcpy(w, e.text.data(), e.text.size());
        w += e.text.size();
        from = e.end;
    }
    std::memcpy(w, original_.data() + from, original_.size() - from);
    return total;
}

std::string_view header_line(std::string_view original, const header& h) noexcept {
    const char* begin = h.name.data();
    const char* const limit = original.data() + original.size();
    const char* p = h.value.data() + h.value.size();
    while (p < limit && *p != '\n') ++p;  // trailing whitespace and CR after the value
    if (p < limit) ++p;
    return {begin, static_cast<std::size_t>(p - begin)};
}

std::string_view first_value_span(std::string_view original, const header& h) noexcept {
    std::string_view rest = h.value;
    const std::string_view first = next_value(rest);
    if (lex::trim(rest).empty()) return header_line(original, h);
    // From the first value through the comma and the whitespace before the next value.
    const char* end = rest.data();
    while (end < h.value.data() + h.value.size() && lex::is_ws(*end)) ++end;
    return {first.data(), static_cast<std::size_t>(end - first.data())};
}

} // namespace sipfast::sip

// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sipfast/sip/message.hpp"

namespace sipfast::sip {

enum class edit_error : std::uint8_t {
    none = 0,
    too_many_edits,    ///< more than message_editor::max_edits
    scratch_full,      ///< generated text does not fit the editor's scratch
    outside_message,   ///< a range or position that is not inside the original message
    overlapping,       ///< a range that overlaps one already replaced or removed
    output_too_small,  ///< serialize() was given less room than size()
};

/// Copy-on-write edits of a received message, applied once when it is serialized into a fresh
/// buffer (Kamailio's lumps): the receive buffer is never written, so views into it stay valid
/// while the forward is built, and a retransmission can be answered from the original bytes.
/// Edits are ranges of the original replaced by new text; an insert is an empty range, a removal
/// empty text. Fixed capacity, no allocation: a proxy builds one per forwarded message.
class message_editor {
public:
    static constexpr std::size_t max_edits = 32;
    static constexpr std::size_t scratch_bytes = 2048;

    /// `original` is the whole message as received (start line through body).
    explicit message_editor(std::string_view original = {}) noexcept : original_(original) {}

    /// The edits made so far, to go back to with rewind().
    struct mark {
        std::size_t edits = 0;
        std::size_t scratch = 0;
    };
    [[nodiscard]] mark checkpoint() const noexcept { return {count_, scratch_used_}; }
    /// Undoes every edit made after `m` and gives back the scratch they kept, so one request can be
    /// forwarded several ways (a fork's branches) from the edits the stages before made once.
    void rewind(const mark& m) noexcept;

    /// Forgets every edit and starts over on `original`.
    void reset(std::string_view original) noexcept {
        original_ = original;
        count_ = 0;
        scratch_used_ = 0;
    }

    /// Replaces `range`, a view into the original, by `text`. `text` must stay valid until
    /// serialize(): a literal, part of the original, or a view returned by keep().
    edit_error replace(std::string_view range, std::string_view text) noexcept;
    /// Inserts `text` before the byte at `at` (which may be the end of the original).
    edit_error insert(const char* at, std::string_view text) noexcept { return replace({at, 0}, text); }
    /// Removes `range`.
    edit_error remove(std::string_view range) noexcept { return replace(range, {}); }

    /// Copies `parts` one after another into the editor's scratch and returns a view of the copy;
    /// on overflow returns an empty view and sets `err`.
    std::string_view keep(std::initializer_list<std::string_view> parts, edit_error& err) noexcept;
    /// Formats `value` in decimal into scratch.
    std::string_view keep_number(std::uint64_t value, edit_error& err) noexcept;

    /// Bytes of the edited message.
    [[nodiscard]] std::size_t size() const noexcept;
    /// Writes the edited message into `out`; returns the bytes written, or 0 (and nothing useful
    /// in `out`) when it needs more than out.size().
    [[nodiscard]] std::size_t serialize(std::span<char> out) const noexcept;

    [[nodiscard]] std::size_t edits() const noexcept { return count_; }
    [[nodiscard]] std::string_view original() const noexcept { return original_; }

private:
    struct edit {
        std::uint32_t begin;
        std::uint32_t end;
        std::string_view text;
        std::uint32_t made = 0;  // the order it was made in (edits are kept sorted by position)
    };

    std::string_view original_;
    std::array<edit, max_edits> edits_{};
    std::size_t count_ = 0;
    std::array<char, scratch_bytes> scratch_{};
    std::size_t scratch_used_ = 0;
};

/// The whole line of header `h` of a message parsed from `original`: from its name through its line
/// end (CRLF or LF), folded continuation lines included. Removing it removes the header.
[[nodiscard]] std::string_view header_line(std::string_view original, const header& h) noexcept;

/// The first value of a comma-separated header value together with the comma and whitespace that
/// follow it, so that removing it leaves the other values well formed ("<a>, <b>" → "<b>"). When it
/// is the only value, the whole header line.
[[nodiscard]] std::string_view first_value_span(std::string_view original, const header& h) noexcept;

} // namespace sipfast::sip

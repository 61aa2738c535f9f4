// Batch frame parsing (RFC 6455 section 5.2): the contract of src/kernels/contract.ts, with results
// identical to src/kernels/ts.ts word for word. Reads and writes only chunk[start, end).
#ifndef SIMDWS_SCAN_H
#define SIMDWS_SCAN_H

#include <cstddef>
#include <cstdint>

#include "contract.h"
#include "mask.h"

namespace simdws {

namespace detail {

// The header checks that need only the first two bytes, in ws's order; 0 when they pass.
inline std::uint32_t check_first_bytes(std::uint32_t b0, std::uint32_t b1, std::uint32_t options) {
  // 5.2: RSV2 and RSV3 mean nothing without an extension that defines them.
  if ((b0 & 0x30) != 0) return kErrorRsv23;
  // RFC 7692 section 6: RSV1 is the "compressed" bit, allowed only when deflate was negotiated.
  const bool rsv1 = (b0 & 0x40) != 0;
  if (rsv1 && (options & kScanAllowRsv1) == 0) return kErrorRsv1;
  const std::uint32_t opcode = b0 & 0x0f;
  if (opcode == 0x00) {
    // RFC 7692 section 6.1: only the first frame of a message carries RSV1.
    if (rsv1) return kErrorRsv1;
  } else if (opcode == 0x08 || opcode == 0x09 || opcode == 0x0a) {
    // 5.5: control frames are never fragmented and carry at most 125 bytes; 5.5.1: a close body
    // is empty or starts with a 2-byte code. RFC 7692 section 6.1: they are never compressed.
    if ((b0 & 0x80) == 0) return kErrorControlNotFin;
    if (rsv1) return kErrorRsv1;
    const std::uint32_t length7 = b1 & 0x7f;
    if (length7 > 125 || (opcode == 0x08 && length7 == 1)) return kErrorControlPayloadLength;
  } else if (opcode != 0x01 && opcode != 0x02) {
    // 5.2: opcodes 3-7 and 0xB-0xF are reserved.
    return kErrorInvalidOpcode;
  }
  // 5.1: a server closes on an unmasked frame, a client on a masked one.
  const bool masked = (b1 & 0x80) != 0;
  if ((options & kScanExpectMasked) != 0) {
    if (!masked) return kErrorExpectedMask;
  } else if (masked) {
    return kErrorUnexpectedMask;
  }
  return 0;
}

// Offsets and lengths are stored as the low 32 bits, as an Int32Array stores a JS number.
inline void write_record(std::int32_t* records, std::size_t index, std::uint32_t info, std::uint64_t frame_start,
                         std::uint64_t payload_start, std::uint32_t length_low, std::uint32_t length_high,
                         std::uint32_t extra) {
  std::int32_t* r = records + index * kRecordWords;
  r[0] = static_cast<std::int32_t>(info);
  r[1] = static_cast<std::int32_t>(static_cast<std::uint32_t>(frame_start));
  r[2] = static_cast<std::int32_t>(static_cast<std::uint32_t>(payload_start));
  r[3] = static_cast<std::int32_t>(length_low);
  r[4] = static_cast<std::int32_t>(length_high);
  r[5] = static_cast<std::int32_t>(extra);
}

inline std::uint32_t read_be32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

}  // namespace detail

// Parses chunk[start, end) into `records` (capacity records of kRecordWords words, capacity >= 2)
// and unmasks every whole masked payload in place with `xor_fn`. Returns the records written.
inline std::size_t scan(std::uint8_t* chunk, std::size_t start, std::size_t end, std::int32_t* records,
                        std::size_t capacity, std::uint32_t options, XorFn xor_fn) {
  std::size_t count = 0;
  std::size_t pos = start;
  while (pos < end) {
    if (count == capacity - 1) {
      detail::write_record(records, count, kKindFull << kKindShift, pos, 0, 0, 0, 0);
      return count + 1;
    }
    if (end - pos < 2) break;
    const std::uint32_t b0 = chunk[pos];
    const std::uint32_t b1 = chunk[pos + 1];
    const std::uint32_t info0 = b0 | ((b1 & 0x80) << 1);
    const std::uint32_t error = detail::check_first_bytes(b0, b1, options);
    if (error != 0) {
      detail::write_record(records, count, info0 | (kKindError << kKindShift), pos, 0, error, 0,
                           kCloseProtocolError);
      return count + 1;
    }
    // 5.2: a 7-bit length, or 126 and a 16-bit length, or 127 and a 64-bit length; then the key.
    const std::uint32_t length7 = b1 & 0x7f;
    const bool masked = (b1 & 0x80) != 0;
    const std::size_t header_length = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (end - pos < header_length) break;
    std::uint32_t length_low = length7;
    std::uint32_t length_high = 0;
    if (length7 == 126) {
      length_low = (static_cast<std::uint32_t>(chunk[pos + 2]) << 8) | chunk[pos + 3];
    } else if (length7 == 127) {
      // 5.2: the most significant bit must be 0; lengths above 2^53 - 1 are refused as too big.
      length_high = detail::read_be32(chunk + pos + 2);
      if (length_high > kMaxLengthHigh) {
        detail::write_record(records, count, info0 | (kKindError << kKindShift), pos, 0, kErrorLengthTooLarge, 0,
                             kCloseMessageTooBig);
        return count + 1;
      }
      length_low = detail::read_be32(chunk + pos + 6);
    }
    const std::size_t payload_start = pos + header_length;
    const std::uint32_t info = info0 | (masked ? kInfoMasked : 0);
    if (length_high != 0 || length_low > end - payload_start) {
      // The key goes out big-endian, as on the wire, so the caller can unmask what arrives later.
      const std::uint32_t key = masked ? detail::read_be32(chunk + payload_start - 4) : 0;
      detail::write_record(records, count, info | (kKindPartial << kKindShift), pos, payload_start, length_low,
                           length_high, key);
      return count + 1;
    }
    if (masked && length_low != 0) {
      // 5.3: payload byte i is XORed with key byte i % 4; the key is the 4 bytes before the payload.
      xor_fn(chunk + payload_start, chunk + payload_start, length_low, chunk + payload_start - 4);
    }
    detail::write_record(records, count, info | (kKindFrame << kKindShift), pos, payload_start, length_low, 0, 0);
    count++;
    pos = payload_start + length_low;
  }
  if (pos < end) {
    detail::write_record(records, count, kKindNeedHeader << kKindShift, pos, 0, 0, 0, 0);
    return count + 1;
  }
  return count;
}

}  // namespace simdws

#endif  // SIMDWS_SCAN_H

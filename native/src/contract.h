// The kernel contract of src/kernels/contract.ts, restated for C++: record layout, kinds, options,
// error ids and close codes. The two must stay equal; test/kernels compares this tier with the
// TypeScript one on the same bytes, so a drift fails there.
#ifndef SIMDWS_CONTRACT_H
#define SIMDWS_CONTRACT_H

#include <cstdint>

namespace simdws {

constexpr std::uint32_t kRecordWords = 6;
constexpr std::uint32_t kMinRecords = 2;  // one frame and one terminal record

constexpr std::uint32_t kKindShift = 12;
constexpr std::uint32_t kKindFrame = 0;
constexpr std::uint32_t kKindPartial = 1;
constexpr std::uint32_t kKindNeedHeader = 2;
constexpr std::uint32_t kKindError = 3;
constexpr std::uint32_t kKindFull = 4;

constexpr std::uint32_t kInfoMasked = 0x100;

constexpr std::uint32_t kScanExpectMasked = 1;  // server side: client frames must be masked (5.1)
constexpr std::uint32_t kScanAllowRsv1 = 2;     // permessage-deflate negotiated (RFC 7692 section 6)

// Error ids, in the order they are checked (ws's order).
constexpr std::uint32_t kErrorRsv23 = 1;
constexpr std::uint32_t kErrorRsv1 = 2;
constexpr std::uint32_t kErrorInvalidOpcode = 3;
constexpr std::uint32_t kErrorControlNotFin = 4;
constexpr std::uint32_t kErrorControlPayloadLength = 5;
constexpr std::uint32_t kErrorExpectedMask = 6;
constexpr std::uint32_t kErrorUnexpectedMask = 7;
constexpr std::uint32_t kErrorLengthTooLarge = 8;

constexpr std::uint32_t kCloseProtocolError = 1002;
constexpr std::uint32_t kCloseMessageTooBig = 1009;

// 2^53 - 1 payload bytes at most: the high 32 bits of a 64-bit length may not exceed this.
constexpr std::uint32_t kMaxLengthHigh = 0x1fffff;

}  // namespace simdws

#endif  // SIMDWS_CONTRACT_H

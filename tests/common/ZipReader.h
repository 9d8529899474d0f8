// A minimal zip reader for the tests that check an XLSX file (a zip of XML parts): the central
// directory's entries, each stored or deflated (zlib's raw inflate). Enough for archives that
// libxlsxwriter writes; not a general unzip (no ZIP64, no encryption).
#pragma once

#include <QByteArray>
#include <QMap>
#include <QString>
#include <cstdint>
#include <optional>
#include <zlib.h>

namespace crossroads::testing {

namespace detail {

inline uint32_t le(const QByteArray& b, qsizetype at, int bytes) {
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | static_cast<uint8_t>(b[at + i]);
    return v;
}

inline std::optional<QByteArray> inflateRaw(const QByteArray& in, uint32_t size) {
    QByteArray out(static_cast<qsizetype>(size), '\0');
    z_stream s{};
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
        return std::nullopt;
    s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.constData()));
    s.avail_in = static_cast<uInt>(in.size());
    s.next_out = reinterpret_cast<Bytef*>(out.data());
    s.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&s, Z_FINISH);
    inflateEnd(&s);
    if (rc != Z_STREAM_END || s.total_out != size)
        return std::nullopt;
    return out;
}

} // namespace detail

// Every entry by name; nullopt when `zip` is not a well-formed archive of stored or deflated
// entries whose CRCs match.
inline std::optional<QMap<QString, QByteArray>> unzipAll(const QByteArray& zip) {
    using detail::le;
    // The end of central directory record: 22 bytes plus a comment of up to 64 KiB.
    qsizetype eocd = -1;
    for (qsizetype at = zip.size() - 22; at >= 0 && at >= zip.size() - 22 - 65535; --at)
        if (le(zip, at, 4) == 0x06054b50) {
            eocd = at;
            break;
        }
    if (eocd < 0)
        return std::nullopt;
    const uint32_t entries = le(zip, eocd + 10, 2);
    qsizetype at = le(zip, eocd + 16, 4);
    QMap<QString, QByteArray> out;
    for (uint32_t i = 0; i < entries; ++i) {
        if (at + 46 > zip.size() || le(zip, at, 4) != 0x02014b50)
            return std::nullopt;
        const uint32_t method = le(zip, at + 10, 2), crc = le(zip, at + 16, 4);
        const uint32_t packed = le(zip, at + 20, 4), size = le(zip, at + 24, 4);
        const uint32_t nameLength = le(zip, at + 28, 2), extra = le(zip, at + 30, 2);
        const uint32_t comment = le(zip, at + 32, 2), local = le(zip, at + 42, 4);
        const QString name = QString::fromUtf8(zip.mid(at + 46, nameLength));
        at += 46 + nameLength + extra + comment;
        if (local + 30 > zip.size() || le(zip, local, 4) != 0x04034b50)
            return std::nullopt;
        const qsizetype data = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
        if (data + packed > zip.size())
            return std::nullopt;
        const QByteArray raw = zip.mid(data, packed);
        std::optional<QByteArray> content;
        if (method == 0)
            content = raw;
        else if (method == 8)
            content = detail::inflateRaw(raw, size);
        if (!content || content->size() != size ||
            crc32(0, reinterpret_cast<const Bytef*>(content->constData()),
                  static_cast<uInt>(content->size())) != crc)
            return std::nullopt;
        out.insert(name, *content);
    }
    return out;
}

} // namespace crossroads::testing

#include "analysis/Precedents.h"

namespace crossroads::analysis {

const std::vector<Precedent>& precedents() {
    // Sources: docs/reference/export-rules.md (2022-10 encoding note; 2023-10 borderline list)
    // and the status notes of docs/reference/chips.csv.
    static const std::vector<Precedent> list = {
        {"A800 SXM4 80GB (China)", "A100 SXM4 80GB", "2022-10",
         "NVLink cut to 400 GB/s, under the 600 GB/s I/O test",
         "87 FR 62186; NVIDIA 8-K 2023-10-17", "Q"},
        {"A800 PCIe 80GB (China)", "A100 PCIe 80GB", "2022-10",
         "NVLink cut to 400 GB/s, under the 600 GB/s I/O test",
         "87 FR 62186; NVIDIA 8-K 2023-10-17", "Q"},
        {"H800 SXM5 (China)", "H100 SXM5 80GB", "2022-10",
         "NVLink cut to 400 GB/s, under the 600 GB/s I/O test",
         "87 FR 62186; NVIDIA 8-K 2023-10-17", "Q"},
        {"Gaudi2 China (HL-225B)", "Gaudi2 (HL-225H)", "2022-10",
         "21 of 24 RoCE ports (about 525 GB/s), under the 600 GB/s I/O test", "TechNode (21 ports)",
         "D"},
        {"H20 (China)", "H100 SXM5 80GB", "2023-10",
         "TPP 2,368 under 2,400 and PD 2.91 under 3.2: outside 3A090.b",
         "EPOCH; NVIDIA 8-K 2025-04-15", "S"},
        {"L20 (China)", "L40S", "2023-10", "TPP under 2,400 and PD 3.14 under 3.2: outside 3A090.b",
         "EPOCH (TechPowerUp/wccftech)", "S"},
        {"L2 (China)", "L4", "2023-10", "TPP 1,544 under 1,600: outside 3A090", "EPOCH", "S"},
        {"GeForce RTX 4090D (China)", "GeForce RTX 4090", "2023-10",
         "114 of 128 SMs: TPP about 4,708, under 4,800, so Note 2 exempts the non-datacenter card",
         "Guru3D; Jon Peddie Research", "D"},
        {"GeForce RTX 5090D (China)", "GeForce RTX 5090", "2023-10",
         "TPP about 4,750, under 4,800, so Note 2 exempts the non-datacenter card", "derived", "D"},
    };
    return list;
}

std::vector<Precedent> precedentsOf(std::string_view chip) {
    std::vector<Precedent> out;
    for (const Precedent& p : precedents())
        if (p.chip == chip)
            out.push_back(p);
    return out;
}

} // namespace crossroads::analysis

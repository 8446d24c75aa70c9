"""A deterministic corpus of synthetic Vietnamese administrative records for search benches."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

TYPES = ["Quyết định", "Công văn", "Báo cáo", "Kế hoạch", "Tờ trình", "Thông báo", "Biên bản"]
ISSUERS = [
    "Ủy ban nhân dân tỉnh Hòa Bình",
    "Văn phòng Chính phủ",
    "Bộ Nội vụ",
    "Sở Tài chính Hà Nội",
    "Ủy ban nhân dân thành phố Đà Nẵng",
    "Cục Văn thư và Lưu trữ nhà nước",
    "Sở Y tế Cần Thơ",
    "Bộ Thông tin và Truyền thông",
    "Ủy ban nhân dân huyện Lương Sơn",
    "Sở Giáo dục Nghệ An",
]
PHRASES = [
    "chuyển đổi số",
    "công tác văn thư",
    "tài liệu lưu trữ",
    "hồ sơ điện tử",
    "chữ ký số",
    "trục liên thông văn bản",
    "kế hoạch năm",
    "ngân sách nhà nước",
    "cải cách hành chính",
    "đầu tư công",
    "phòng chống thiên tai",
    "giải phóng mặt bằng",
    "đất đai",
    "xây dựng nông thôn mới",
    "y tế cơ sở",
    "giáo dục phổ thông",
    "an toàn thông tin",
    "dịch vụ công trực tuyến",
    "thi đua khen thưởng",
    "tổ chức cán bộ",
    "thanh tra",
    "kiểm tra",
    "báo cáo tổng kết",
    "quy chế làm việc",
    "tiêu hủy tài liệu",
    "nộp lưu",
    "kho lưu trữ lịch sử",
    "số hóa",
]
FILLER = [
    "căn cứ",
    "theo",
    "đề nghị",
    "của",
    "về việc",
    "các cơ quan",
    "đơn vị",
    "thực hiện",
    "nghiêm túc",
    "trước ngày",
    "tháng",
    "năm",
    "quy định",
    "hướng dẫn",
    "triển khai",
    "phối hợp",
    "báo cáo kết quả",
    "tình hình",
    "nhiệm vụ",
    "giải pháp",
    "trong thời gian tới",
    "đồng thời",
    "bảo đảm",
    "hiệu quả",
]
ACCESS_WEIGHTS = {"public": 70, "internal": 20, "confidential": 8, "secret": 2}


@dataclass(frozen=True)
class SyntheticRecord:
    record_id: str
    title: str
    access: str
    body: str


def generate(count: int, seed: int = 2026) -> Iterator[SyntheticRecord]:
    rng = random.Random(seed)
    levels, weights = zip(*ACCESS_WEIGHTS.items(), strict=True)
    for n in range(count):
        doc_type = rng.choice(TYPES)
        issuer = rng.choice(ISSUERS)
        topic = rng.choice(PHRASES)
        words = [doc_type, "của", issuer, "về", topic]
        for _ in range(rng.randint(30, 80)):
            words.append(rng.choice(PHRASES) if rng.random() < 0.3 else rng.choice(FILLER))
        yield SyntheticRecord(
            record_id=f"bench{n:07d}",
            title=f"{doc_type} về {topic}",
            access=rng.choices(levels, weights)[0],
            body=" ".join(words) + ".",
        )


def queries(count: int, seed: int = 7) -> list[str]:
    """One to three words or phrases from the corpus vocabulary, with diacritics."""
    rng = random.Random(seed)
    pool = PHRASES + TYPES + [i.split()[-1] for i in ISSUERS]
    return [" ".join(rng.sample(pool, rng.randint(1, 2))) for _ in range(count)]

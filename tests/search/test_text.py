from search.text import folded_tokens, make_snippet, tokenize


def test_tokenize_matches_the_index_tokenizer() -> None:
    assert tokenize("Số: 1482/QĐ-UBND, Ðộc lập") == ["số", "1482", "qđ", "ubnd", "độc", "lập"]
    assert tokenize("snake_case") == ["snake", "case"]
    assert tokenize("x" * 41) == []


def test_folded_tokens() -> None:
    assert folded_tokens("Chính phủ") == ["chinh", "phu"]


def test_snippet_highlights_original_letters_for_a_query_without_diacritics() -> None:
    body = "Căn cứ Nghị định của Chính phủ về công tác văn thư"
    assert make_snippet(body, "chinh phu") == (
        "Căn cứ Nghị định của <b>Chính</b> <b>phủ</b> về công tác văn thư"
    )


def test_snippet_matches_whole_words_only() -> None:
    assert make_snippet("chính phủ, chínhphủ", "phu") == "chính <b>phủ</b>, chínhphủ"


def test_snippet_escapes_html_in_the_text() -> None:
    snippet = make_snippet("<script>alert(1)</script> quyết định", "quyet")
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet and "<b>quyết</b>" in snippet


def test_snippet_is_a_window_around_the_first_match() -> None:
    body = "mở đầu " * 100 + "lưu trữ" + " kết thúc" * 100
    snippet = make_snippet(body, "luu tru", width=120)
    assert "<b>lưu</b> <b>trữ</b>" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) < 200


def test_snippet_prefers_the_place_where_all_query_words_stand_together() -> None:
    body = "Chính quyền địa phương " + "và các cơ quan " * 20 + "theo chỉ đạo của Chính phủ"
    snippet = make_snippet(body, "chinh phu", width=80)
    assert "<b>Chính</b> <b>phủ</b>" in snippet

"""The trend chart is a pure function from points to SVG: exact markup for small cases, every text escaped."""

from gateway.trend_chart import trend_svg, words

A1C = [("2026-10-16T09:00:00Z", (8.1,)), ("2026-04-20T09:00:00Z", (7.6,))]


def test_two_results_with_a_range_below_a_limit_make_one_line_over_a_shaded_band():
    svg = trend_svg(A1C, "HbA1c", "%", band=(None, 5.6), range_text="up to 5.6 %", width=100, height=40)
    alt = "HbA1c: 7.6 % on 2026-04-20, 8.1 % on 2026-10-16. Normal range: up to 5.6 %."
    # Scale 5.35–8.35 (the values and the range's limit, 10% margin): 7.6 sits at y 12, 8.1 at 6.7, 5.6 at 33.3.
    assert svg == (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" aria-label="{alt}"'
        f' width="100" height="40" viewBox="0 0 100 40"><title>{alt}</title>'
        '<rect class="trend-range" fill="#dcefe0" x="0" y="33.3" width="100" height="6.7"/>'
        '<polyline class="trend-line" fill="none" stroke="currentColor" points="4,12 96,6.7"/>'
        '<circle class="trend-point" cx="4" cy="12" r="2.5"/>'
        '<circle class="trend-point" cx="96" cy="6.7" r="2.5"/>'
        "</svg>"
    )


def test_blood_pressure_draws_two_lines_and_says_each_reading_as_charted():
    points = [("2026-01-01", (120, 80)), ("2026-01-03", (140, 90))]
    svg = trend_svg(points, "Blood pressure", "mmHg", width=100, height=40)
    # Scale 74–146 (80–140, 10% margin), no band; x 4 and 96; 120 at y 15.6, 140 at 6.7, 80 at 33.3, 90 at 28.9.
    assert svg.count('class="trend-line"') == 2 and "trend-range" not in svg
    assert 'points="4,15.6 96,6.7"' in svg and 'points="4,33.3 96,28.9"' in svg
    assert 'aria-label="Blood pressure: 120/80 mmHg on 2026-01-01, 140/90 mmHg on 2026-01-03."' in svg


def test_one_day_or_one_value_still_draws_in_the_middle():
    svg = trend_svg([("2026-01-01", (5,)), ("2026-01-01", (5,))], "Weight", "kg", width=100, height=40)
    assert 'points="50,20 50,20"' in svg


def test_every_text_is_escaped():
    svg = trend_svg(A1C, '<script>"x"</script>', "&", range_text="<b>", day_words=lambda iso: "<i>")
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    assert 'aria-label="&lt;script&gt;&quot;x&quot;&lt;/script&gt;: 7.6 &amp; on &lt;i&gt;, 8.1 &amp; on' in svg


def test_words_with_the_readers_dates():
    said = words(A1C[::-1], "HbA1c", "%", "up to 5.6 %", day_words=lambda iso: iso[5:10])
    assert said == "HbA1c: 7.6 % on 04-20, 8.1 % on 10-16. Normal range: up to 5.6 %."


def test_a_labelled_chart_writes_each_reading_over_its_dot_inside_the_picture():
    svg = trend_svg(A1C, "HbA1c", "%", width=100, height=60, labels=True)
    # Scale 7.55–8.15 drawn from y 56 up to 18 (room for the words): 7.6 at y 52.8, 8.1 at 21.2.
    assert 'points="4,52.8 96,21.2"' in svg
    assert (
        '<text class="trend-value" x="4" y="45.8" text-anchor="start" font-size="14" fill="currentColor">7.6</text>'
        in svg
    )
    assert (
        '<text class="trend-value" x="96" y="14.2" text-anchor="end" font-size="14" fill="currentColor">8.1</text>'
        in svg
    )

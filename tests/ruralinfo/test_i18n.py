"""Chinese is the default language and nothing on a page is left in English.

* The zh catalog is complete: every message a fresh extraction finds has a
  Chinese, non-fuzzy translation with the same placeholders, and the compiled
  catalog the app loads is the one in the .po file.
* Every GET page of the app (read from the URL map, so a page added later is
  covered or makes this test say how to fill its URL) renders in Chinese, with
  no English word left beyond a short, justified allowlist, for every role that
  has pages — a farmer logged in by SMS code included; it also renders in
  English after /lang/en. The audit log is checked like every other page: its
  codes are shown as labels.
* The texts a Chinese-speaking farmer gets by SMS are Chinese too, but for the
  command words people type.
* The language switch is on every page, leads back to the same page, and never
  sends the visitor to another site.

Note: the suite's ``client`` fixture chooses English; these tests use
``app.test_client()`` and set the default locale to Chinese, as in production.
"""
from __future__ import annotations

import html
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from mailbox import services as mailbox
from mailbox.models import BUY, FROM_BUREAU, SELL
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import InterestGroup
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import replies
from ruralinfo.broadcasts import services as broadcasts
from ruralinfo.extensions import db
from ruralinfo.liaison import points
from ruralinfo.liaison.models import ImportBatch
from ruralinfo.sms.models import OTP, InboundMessage, OutboundMessage
from tests.conftest import (BALI, CHANGXI, OTHER_TOWNSHIP, PASSWORD, WUXINGDIAN, ZHANGQI, next_id_number,
                             next_phone)

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "ruralinfo/translations/zh/LC_MESSAGES/messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
CJK = re.compile(r"[\u4e00-\u9fff]")

# --- what may stay in Latin letters on a Chinese page --------------------------------------
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
ALLOWED_WORDS = {
    "English",              # the language switch, and the SMS-language choice: a language is named in itself
    "CSV", "XLSX", "Excel",  # file formats and the spreadsheet program, called so in Chinese too
    "MB",                   # megabytes: the unit is written so in Chinese too
    "ISO",                  # ISO weeks (the market figures): the standard's name
    "TD",                   # the opt-out word typed in SMS (as well as 退订), quoted in the help text
}
LITERALS = (
    "NY/T 3177-2018",  # the ministry's standard for product codes, named so in Chinese too
    "name,id_number,phone,region_code,groups,language",  # the import file's column names (a contract)
    "code,name,streetCode",                              # the columns of the national region table
    "flask --app wsgi regions load FILE.csv",            # the server command the regions page quotes
    "flask --app wsgi api-token create --user PHONE",    # the server command the API tokens page quotes
)
REPORT_LINE = re.compile(r"\bline \d+: ")  # the import report's `line N: reason` prefix (a contract)
# Data shown as it is stored is not a translation matter either: the interest groups'
# English names (the admin edits them, and the audit log shows them changing) and
# uploaded file names. The audit log's codes (actions, channels, targets, fields and
# coded values such as roles) are shown as labels, and checked like any other text.
SMS_ALLOWED = {"TD"}  # the opt-out command word, which farmers type as it is
NO_ACCOUNT = "+8613912345678"  # a mobile number with no account

ZH_DEFAULT = "zh"


@pytest.fixture
def app_config(app_config):
    """Production's default language (the suite's is English)."""
    return {**app_config, "BABEL_DEFAULT_LOCALE": ZH_DEFAULT}


# --- the catalog ---------------------------------------------------------------------------

def _read_po():
    with open(PO_FILE, "rb") as fh:
        return read_po(fh, locale="zh")


def _extracted_ids() -> set:
    """The msgids ``make extract-messages`` would find now."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def test_every_extracted_message_has_a_chinese_translation():
    catalog = _read_po()
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    known = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    extracted = _extracted_ids()
    missing, stale = sorted(extracted - set(known)), sorted(set(known) - extracted)
    assert not missing, f"not in the .po (run `make extract-messages` and translate): {missing}"
    assert not stale, f"no longer in the code (run `make extract-messages`): {stale}"
    problems = []
    for key, message in known.items():
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy:
            problems.append(("fuzzy", key))
        if len(strings) != catalog.num_plurals:
            problems.append(("plural forms", key))
        for text in strings:
            if not text or not CJK.search(text):
                problems.append(("not translated", key, text))
            elif _placeholders(text) != _placeholders(ids[-1]):
                problems.append(("placeholders differ", key, text))
        if len(ids) == 2 and _placeholders(ids[0]) != _placeholders(ids[1]):
            problems.append(("singular and plural differ", key))
    assert not problems, problems


def _key(value):
    """A catalog id or string as something hashable: plurals are tuples."""
    return value if isinstance(value, str) else tuple(value)


def _translated(string) -> bool:
    return bool(string) if isinstance(string, str) else all(string)


def test_the_compiled_catalog_is_the_po_file():
    assert MO_FILE.exists(), "run `make translations`"
    with open(MO_FILE, "rb") as fh:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    written = {_key(m.id): _key(m.string) for m in _read_po()  # compile leaves out the untranslated
               if m.id and not m.fuzzy and _translated(m.string)}
    assert compiled == written, "the .mo is out of date: run `make translations`"


# --- the pages -----------------------------------------------------------------------------

class World:
    """A county with one of everything a page can show, and a browser per role."""


@pytest.fixture
def world(app, make_point, make_staff, make_farmer, monkeypatch):
    w = World()
    w.point = make_point("长溪村联络点", (CHANGXI,))
    w.quiet_point = make_point("巴里村联络点", (BALI,))
    w.suspended_point = make_point("五姓点村联络点", (WUXINGDIAN,))
    w.admin = make_staff(roles.ADMIN, name="管理员")
    w.staff = make_staff(roles.STAFF, roles.APPROVER, name="农业局员工")
    w.liaison = make_staff(roles.LIAISON, point=w.point, name="联络员")
    w.pointless = make_staff(roles.LIAISON, name="新来的联络员")
    w.suspended_liaison = make_staff(roles.LIAISON, point=w.suspended_point, name="暂停点联络员")
    w.farmer = make_farmer(name="李秀英", groups=("葡萄", "茶叶"))
    accounts.mark_verified(w.farmer, actor=w.liaison, channel="web")
    w.neighbour = make_farmer(name="张大山", groups=("葡萄",))  # of the same village: one can write to them
    w.pointless_farmer = make_farmer(name="赵老汉", region_code=OTHER_TOWNSHIP)  # their texts go to the bureau
    w.gone = make_farmer(name="王阿婆", groups=())
    accounts.set_active(w.gone, False, actor=w.liaison, channel="web")
    points.suspend(w.suspended_point, actor=w.admin, channel="web")
    accounts.set_roles(w.pointless, [roles.LIAISON, roles.EXPERT], actor=w.admin, channel="web")
    w.group = db.session.scalars(select(InterestGroup).order_by(InterestGroup.id)).first()

    # the mailbox: a villager's letter answered by SMS, a bureau notice, a letter to the
    # point answered by its liaison, and posts open and closed
    w.letter = mailbox.send_letter(sender=w.neighbour, recipient=w.farmer, body="明天一起去镇上卖葡萄吗",
                                   channel="web")
    mailbox.reply(w.letter.id, sender=w.farmer, body="好的，八点见", channel="sms")
    mailbox.send_letter(sender=None, recipient=w.farmer, kind=FROM_BUREAU, body="今晚有霜冻，请盖好大棚", channel="web")
    w.point_letter = mailbox.send_letter(sender=w.farmer, recipient_point=w.point, body="地里有虫", channel="sms")
    mailbox.reply(w.point_letter.id, sender=w.liaison, body="明天上午来看", channel="web")
    w.post = mailbox.create_post(w.farmer, SELL, "土豆 500斤 1.5元/斤", channel="web")
    mailbox.close_post(mailbox.create_post(w.farmer, BUY, "葡萄苗 200株", channel="sms"), actor=w.farmer,
                       channel="web")

    # a meeting notice with a sign-up, sent (here, at once) and answered by the farmer
    monkeypatch.setattr(broadcasts, "start", broadcasts.send)
    app.config["QUIET_HOURS"] = ""
    w.broadcast, _preview = broadcasts.propose(
        actor=w.staff, audience=audiences.clean(audiences.Rules(groups=["葡萄"])), topic="meetings",
        body="{name}您好：12月10日上午9点在镇农技站举办葡萄冬季管理培训。", reply_options=["报名|sign up", "不参加|not coming"])
    replies.record(w.broadcast, phone=w.farmer.phone, user=w.farmer, choice=1)

    w.clients = {"anonymous": app.test_client(), "farmer": _logged_in_by_code(app, w.farmer)}
    for name in ("admin", "staff", "liaison", "pointless", "suspended_liaison"):
        w.clients[name] = _logged_in(app, getattr(w, name))
    # a visitor who asked for a code (for a number with no account) sees the page to enter it
    assert w.clients["anonymous"].post("/login/code", data={"phone": NO_ACCOUNT}).status_code == 302
    # texts through the phone simulator, so that its conversations have replies to show
    for number, text in ((w.farmer.phone, "帮助"), (NO_ACCOUNT, "你好"), (w.pointless_farmer.phone, "有人吗")):
        response = w.clients["staff"].post(f"/dev/phone/{number}/send", data={"body": text})
        assert response.status_code == 302, response.get_data(as_text=True)

    csv = ("姓名,身份证号,手机号,地区代码,产业\n"
           f"陈阿毛,{next_id_number()},{next_phone()},{CHANGXI},葡萄\n"
           f"外村人,{next_id_number()},{next_phone()},{BALI},葡萄\n"
           f"错号码,330282197205090311,{next_phone()},{CHANGXI},\n")
    response = w.clients["liaison"].post(
        "/liaison/import", content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv.encode("utf-8-sig")), "名单.csv"), "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    w.batch = db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert w.batch.rejected == 2 and "第3行：" in w.batch.report

    # the hotline: a question answered and published by an expert (the pointless liaison is one), another held
    from hotline import answers as hotline_answers
    from hotline import services as hotline

    w.question = hotline.ask(topic="crops", channel="sms", text="水稻叶子发黄怎么办", user=w.farmer)
    hotline.claim(w.question.id, w.pointless)
    hotline.answer(w.question.id, w.pointless, "多半缺氮，每亩追施尿素5公斤。")
    w.published = hotline_answers.publish(w.question.id, w.pointless, topic="crops", question_zh="水稻叶子发黄怎么办",
                                          answer_zh="多半缺氮，每亩追施尿素5公斤。")
    w.held = hotline.ask(topic="livestock", channel="web", text="猪不吃食怎么办", user=w.farmer)
    hotline.claim(w.held.id, w.pointless)
    return w


def _logged_in(app, user):
    client = app.test_client()
    response = client.post("/login", data={"phone": user.phone, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _logged_in_by_code(app, farmer):
    """A farmer's browser, logged in with the code the SMS brought."""
    client = app.test_client()
    assert client.post("/login/code", data={"phone": farmer.phone}).status_code == 302
    body = db.session.scalars(select(OutboundMessage.body)
                              .where(OutboundMessage.to == farmer.phone, OutboundMessage.kind == OTP)
                              .order_by(OutboundMessage.id.desc())).first()
    response = client.post("/login/code/enter", data={"code": re.search(r"\d{6}", body).group(0)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/mailbox/"), response.status
    return client


def _url_value(world: World, name: str, rule: str) -> str:
    farmer_side = rule.startswith("/mailbox")  # the farmer's own pages: what the farmer may open
    values = {"user_id": world.neighbour.id if farmer_side else world.farmer.id,
              "letter_id": world.letter.id if farmer_side else world.point_letter.id,
              "post_id": world.post.id, "number": world.farmer.phone,
              "point_id": world.point.id, "group_id": world.group.id, "batch_id": world.batch.id, "code": "330282",
              "product_id": _potato().id, "word_id": _potato().words[0].id,
              "topic_id": _first_id("broadcast_topics"), "broadcast_id": world.broadcast.id, "ext": "csv", "template_id": _first_id("broadcast_templates"),
              "question_id": world.question.id, "answer_id": world.published.id, "recording_id": 0,
              "node_id": _first_id("hotline_menu_nodes"), "version_id": _first_id("hotline_menu_versions")}
    if name not in values:
        raise AssertionError(f"test_i18n does not know how to fill <{name}> of {rule}: add it to _url_value")
    return str(values[name])


def _first_id(table: str) -> int:
    return db.session.scalar(select(db.metadata.tables[table].c.id).order_by("id").limit(1))


def _potato():
    from mailbox.models import Product

    return db.session.scalar(select(Product).where(Product.name_zh == "土豆"))


def _get_rules(app, world: World, prefix: str) -> list[str]:
    """Every GET rule under ``prefix``, with its arguments filled with real ids."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not (rule.rule == prefix or rule.rule.startswith(prefix + "/")):
            continue
        urls.append(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: _url_value(world, m.group(1), rule.rule),
                           rule.rule))
    assert urls, f"no GET rule under {prefix}"
    return sorted(set(urls))


def pages(app, world: World) -> list[tuple[str, str]]:
    """(who, url) for every page: each area's GET rules seen by each role that has
    pages there, the public pages, error pages and a few filtered views."""
    admin_pages = _get_rules(app, world, "/admin") + [
        f"/admin/accounts/{world.liaison.id}", f"/admin/accounts/{world.admin.id}",
        f"/admin/points/{world.suspended_point.id}", f"/admin/points/{world.quiet_point.id}/edit",
        "/admin/regions/?code=all", f"/admin/regions/?code={ZHANGQI}", "/admin/regions/?code=330282107",
        f"/admin/regions/?code={CHANGXI}", "/admin/points/?status=suspended&q=村", f"/admin/points/?region={ZHANGQI}",
        "/admin/points/?region=999", "/admin/points/quiet?days=0", "/admin/accounts/?role=liaison&active=1",
        "/admin/accounts/?q=没有这个人", "/admin/audit/?channel=web", "/admin/audit/?since=yesterday",
        "/admin/points/999999"]
    found = [("anonymous", url) for url in ("/", "/welcome", "/login", "/login/code", "/login/code/enter",
                                            "/no-such-page")]
    found += [(who, url) for who in ("admin", "staff") for url in admin_pages]
    found += [("staff", url) for url in _get_rules(app, world, "/bureau")]
    found += [("staff", url) for url in _get_rules(app, world, "/dev") + [f"/dev/phone/{NO_ACCOUNT}",
                                                                         "/dev/phone?q=没有这个人"]]
    found += [("liaison", url) for url in _get_rules(app, world, "/liaison") + ["/liaison/?q=没有这个人", "/admin/",
                                                                               "/dev/phone"]]
    found += [("pointless", "/liaison/"), ("pointless", "/liaison/letters/"), ("suspended_liaison", "/liaison/"),
              ("suspended_liaison", "/liaison/farmers/new")]
    found += [("farmer", url) for url in _get_rules(app, world, "/mailbox") + ["/mailbox/write?name=张"]]
    market = _get_rules(app, world, "/market") + ["/market/?q=tudou", "/market/?kind=sell", "/market/?q=td"]
    found += [(who, url) for who in ("anonymous", "farmer") for url in market]
    console = [url for url in _get_rules(app, world, "/hotline") if not url.startswith("/hotline/recordings/")]
    found += [("pointless", url) for url in console + [f"/hotline/questions/{world.held.id}", "/hotline/?topic=crops"]]
    found += [("staff", url) for url in console]  # the bureau reads the console
    answers = _get_rules(app, world, "/answers") + ["/answers/?q=水稻", "/answers/?topic=livestock"]
    found += [(who, url) for who in ("anonymous", "farmer") for url in answers]
    return found


def _sms_texts() -> list[str]:
    """Every text sent and received: stored, and shown as they are by the phone simulator."""
    return [*db.session.scalars(select(OutboundMessage.body)), *db.session.scalars(select(InboundMessage.body))]


def _json_text(response) -> str:
    """What a page's script shows of its JSON: the phone simulator's texts and labels, a broadcast's status."""
    shown = ("body", "kind_label", "status_label", "segments_label")
    data = response.get_json()
    if isinstance(data, dict):  # a broadcast's progress: its status as the page shows it
        return str(data.get("status_label", ""))
    return " \n".join(str(item[key]) for item in data for key in shown if key in item)


def visible_text(body: str) -> str:
    """What a reader sees or hears: text without scripts, styles and tags, plus the
    attributes that are read out (aria-label, title, placeholder, alt)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    said = re.findall(r'\b(?:aria-label|title|placeholder|alt)="([^"]*)"', body)
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + " ".join(said))


def english_left(text: str, data: list[str], data_words: frozenset[str] = frozenset()) -> list[str]:
    """The English words of a Chinese page's visible text, after the allowlist and stored
    data (``data``: strings; ``data_words``: short ones, matched as whole words only)."""
    text = REPORT_LINE.sub(" ", text)
    for literal in (*LITERALS, *sorted(data, key=len, reverse=True)):
        text = text.replace(literal, " ")
    return sorted({w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED_WORDS and w not in data_words})


def html_lang(body: str) -> str | None:
    found = re.search(r'<html lang="([^"]+)"', body)
    return found.group(1) if found else None


def switch_link(body: str) -> str | None:
    found = re.search(r'<a class="lang" href="([^"]+)"', body)
    return html.unescape(found.group(1)) if found else None


def render(client, url: str):
    """Follow redirects; return (the response, the path and query it ended on)."""
    response = client.get(url, follow_redirects=True)
    final = response.request.path + (f"?{response.request.query_string.decode()}"
                                     if response.request.query_string else "")
    return response, final


def _expected_status(who: str, url: str) -> int:
    if url in ("/no-such-page", "/admin/points/999999"):
        return 404
    if (who, url) == ("liaison", "/admin/"):
        return 403
    return 200


def _taxonomy_data() -> list[str]:
    """The products' English names, pinyin and initials and the categories' English names:
    data the taxonomy pages show, like the interest groups' English names."""
    from mailbox.models import Product, ProductCategory, ProductWord

    found = []
    for product in db.session.scalars(select(Product)):
        found += [product.name_en, product.pinyin]
    found += [category.name_en for category in db.session.scalars(select(ProductCategory))]
    found += [word for word in db.session.scalars(select(ProductWord.word)) if word.isascii()]
    return [item for item in found if len(item or "") >= 3]  # shorter ones would cut words in two


def _broadcast_catalog_data() -> list[str]:
    """The broadcast topics' and notice templates' English names and texts, and the topics'
    keys: data the administrators edit, shown as stored."""
    from ruralinfo.broadcasts.models import Template, Topic

    found = ["{name}", "{village}"]  # the placeholders, written so in every language
    for topic in db.session.scalars(select(Topic)):
        found += [topic.name_en, topic.key]
    for template in db.session.scalars(select(Template)):
        found += [template.name_en, template.body_en, *template.reply_options]
    return [item for item in found if len(item or "") >= 3]


def _taxonomy_words() -> frozenset[str]:
    """Short pinyin and initials (鸡 ji, 土豆 td): data, matched as whole words."""
    from mailbox.models import Product

    return frozenset(word for product in db.session.scalars(select(Product))
                     for word in (product.pinyin, product.initials) if word and len(word) < 3)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_every_page_renders_in_chinese_with_no_english_left(app, world):
    data = [g.name_en for g in db.session.scalars(select(InterestGroup))] + [world.batch.filename] + _taxonomy_data()
    data += _broadcast_catalog_data()
    data.append(app.config["TIMEZONE"])  # Asia/Shanghai: a setting, shown as it is
    short = _taxonomy_words()
    problems, html_pages, json_pages = [], 0, 0
    for who, url in pages(app, world):
        response, final = render(world.clients[who], url)
        expected = _expected_status(who, url)
        assert response.status_code == expected, (who, url, response.status_code)
        if response.mimetype == "application/json":  # the phone simulator's conversation, for its script
            json_pages += 1
            left = english_left(_json_text(response), data, short)
            if left:
                problems.append((who, final, left))
            continue
        if response.mimetype != "text/html":  # the CSV downloads (farmer list, rejected rows) are files
            assert response.mimetype in ("text/csv", XLSX), (who, url, response.mimetype)
            continue
        html_pages += 1
        body = response.get_data(as_text=True)
        if html_lang(body) != "zh-CN":
            problems.append((who, final, "html lang", html_lang(body)))
        left = english_left(visible_text(body), data, short)
        if left:
            problems.append((who, final, left))
    assert html_pages > 50 and json_pages
    assert not problems, "\n".join(map(str, problems))


def test_the_new_pages_show_what_they_are_about(app, world):
    """The farmer's, the letters' and the simulator's pages are not empty shells."""
    def text(who, url):
        response, _final = render(world.clients[who], url)
        assert response.status_code == 200, (who, url)
        return visible_text(response.get_data(as_text=True))

    assert "明天一起去镇上卖葡萄吗" in text("farmer", "/mailbox/") and "写给张大山" in text("farmer", "/mailbox/sent")
    assert "好的，八点见" in text("farmer", f"/mailbox/letters/{world.letter.id}")
    assert "土豆 500斤" in text("farmer", "/mailbox/posts") and "张大山" in text("farmer", "/mailbox/write?name=张")
    assert "地里有虫" in text("liaison", "/liaison/letters/") and "有人吗" in text("staff", "/bureau/texts")
    assert "如果 139 1234 5678 已经登记" in text("anonymous", "/login/code/enter")
    phone = text("staff", f"/dev/phone/{world.farmer.phone}")
    assert "可发送：" in phone and "回复 · " in phone and "验证码 · " in phone and "信件 · " in phone
    items = render(world.clients["staff"], f"/dev/phone/{world.farmer.phone}/messages.json")[0].get_json()
    assert {(i["kind"], i["kind_label"]) for i in items if i["dir"] == "in"} >= {("reply", "回复"), ("otp", "验证码")}


def test_the_import_report_is_wholly_in_chinese(app, world):
    """`第N行：` and the reasons after it: no English `line N:` in the Chinese interface."""
    body = world.clients["liaison"].get(f"/liaison/imports/{world.batch.id}").get_data(as_text=True)
    lines = re.split(r"第\d+行：", visible_text(body))[1:]
    assert len(lines) == 2 and all(CJK.search(reason) for reason in lines), lines
    assert not REPORT_LINE.search(visible_text(body))


def test_every_page_renders_in_english_after_choosing_it(app, world):
    catalog_zh = [m.string for m in _read_po()
                  if m.id and isinstance(m.string, str) and len(m.string) >= 5 and "%" not in m.string
                  and CJK.search(m.string)]
    assert len(catalog_zh) > 100
    for client in world.clients.values():
        assert client.get("/lang/en").status_code == 302
    problems = []
    for who, url in pages(app, world):
        response, final = render(world.clients[who], url)
        expected = _expected_status(who, url)
        if response.status_code != expected:
            problems.append((who, url, response.status_code))
            continue
        if response.mimetype == "application/json":
            text, lang = _json_text(response), "en"
        elif response.mimetype == "text/html":
            body = response.get_data(as_text=True)
            text, lang = visible_text(body), html_lang(body)
        else:
            continue
        # the import report is stored as written, in the language of whoever uploaded the file, and
        # the phone simulator shows texts as they were sent, in the farmer's language, signed
        stored_texts = [world.batch.report, app.config["SMS_SIGNATURE"], *_sms_texts()]
        for stored in sorted(stored_texts, key=len, reverse=True):
            text = text.replace(stored, " ")
        leaked = [s for s in catalog_zh if s in text]
        if lang != "en" or leaked:
            problems.append((who, final, lang, leaked))
    assert not problems, "\n".join(map(str, problems))


def test_the_language_switch_is_on_every_page_and_leads_back_to_it(app, world):
    problems = []
    for who, url in pages(app, world):
        client = world.clients[who]
        response, final = render(client, url)
        if response.mimetype != "text/html":
            continue
        for here, there in (("zh-CN", "en"), ("en", "zh")):
            body = response.get_data(as_text=True)
            link = switch_link(body)
            target = urlsplit(link or "")
            if (html_lang(body) != here or target.path != f"/lang/{there}"
                    or [unquote(v) for v in parse_qs(target.query).get("next", [])] != [unquote(final)]):
                problems.append((who, final, here, link))
                break
            switched = client.get(link)
            if switched.status_code != 302 or unquote(switched.headers["Location"]) != unquote(final):
                problems.append((who, final, here, switched.status_code, switched.headers.get("Location")))
                break
            response = client.get(final)
        client.get("/lang/zh")  # whatever happened, the next page starts in Chinese
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/x", "http:/evil.example",
                                    "/\\evil.example", "javascript:alert(1)", "evil.example"])
def test_the_language_switch_never_leaves_the_site(app, target):
    client = app.test_client()
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//")
    if target.startswith("//"):
        assert location == "/"
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"  # the choice itself is kept


def test_an_unknown_language_changes_nothing(app):
    client = app.test_client()
    response = client.get("/lang/fr", query_string={"next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert html_lang(client.get("/login").get_data(as_text=True)) == "zh-CN"


# --- the texts farmers get -------------------------------------------------------------------

def test_a_chinese_speaking_farmers_texts_are_in_chinese(app, make_point, make_farmer, text_in):
    """Every reply, letter and code a zh farmer gets by SMS, and the reply to a number
    with no account: Chinese, with no English word but the command words people type."""
    make_point("长溪村联络点", (CHANGXI,))
    farmer, neighbour = make_farmer(name="陈阿毛"), make_farmer(name="李秀英")
    assert farmer.language == "zh"
    letter = mailbox.send_letter(sender=neighbour, recipient=farmer, body="有葡萄苗吗", channel="web")
    replies = {}
    for text in ("帮助", "?", "卖 土豆 500斤", "卖", "买 葡萄苗 200株", "买", "我的", f"回复 {letter.id} 有两百株",
                 "回复 999999 好的", "回复", "地里有虫", " ", "TD", "订阅"):
        replies[text] = text_in(farmer.phone, text)[1]
    replies["(no account)"] = text_in(NO_ACCOUNT, "你好")[1]
    replies["(no liaison point)"] = text_in(make_farmer(name="赵老汉", region_code=OTHER_TOWNSHIP).phone, "有人吗")[1]
    app.test_client().post("/login/code", data={"phone": farmer.phone})
    for message in db.session.scalars(select(OutboundMessage).where(OutboundMessage.kind != "reply")):
        replies[f"({message.kind} to {message.to})"] = message.body
    assert {"(letter to %s)" % farmer.phone, "(otp to %s)" % farmer.phone} <= set(replies)
    problems = []
    for text, reply in replies.items():
        english = sorted({w for w in ENGLISH_WORD.findall(reply or "")} - SMS_ALLOWED)
        if not reply or not CJK.search(reply) or english:
            problems.append((text, reply, english))
    assert not problems, "\n".join(map(str, problems))

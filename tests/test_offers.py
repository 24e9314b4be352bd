"""The job-offer checker without the engine: rules validation, the analysis on our own development offers, offer
recognition, the reply, the one-tap report, and bad input. A real ContentStore, a real SQLite registry (seeded with
the sanction news and the demo list) and a real report service are used."""
import asyncio
import io
import shutil
import time

import pytest
import yaml
from telegram import Update

from bot.app import build_app
from bot.channels import telegram as telegram_channel
from bot.content import Content
from bot.dialogue import offer
from bot.dialogue.messages import Incoming
from bot.dialogue.report import ReportFlow
from bot.offers.analyse import analyse, looks_like_offer
from bot.offers.check import check_offer_rules
from bot.offers.rules import RulesError, RuleStore, load_rules
from bot.offers.text import OfferText
from bot.reports.crypto import new_key
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
from db.chat_state import ConversationState
from tests.conftest import settings_for

RULES = PROJECT_ROOT / "content" / "offer_rules.yml"
SIGN_IDS = {
    "agency_sanctioned", "non_destination", "moratorium", "fee_forbidden", "personal_account", "deposit",
    "visa_nonwork", "no_passport", "skip_process", "irregular_route", "fake_identity", "underage",
    "underage_domestic", "secrecy", "agency_unknown", "high_pay", "pressure", "contact_only_private", "no_address",
}

# Development offers written for these tests (informal, typos, Kupang Malay, Malay, English), with every sign a
# careful reader finds. Companies: PT Sinar Jaya / PT Sinar Jaya Abadi are active in the demo list, PT Bintang Timur
# Sejahtera suspended, PT Cahaya Abadi Nusantara inactive, PT Multi Intan Amanah Internasional revoked (sanction
# news); the other names are made up.
DEV_OFFERS = [
    ("""LOWONGAN KERJA MALAYSIA 🇲🇾🇲🇾
Dibutuhkan segera 20 org cewek utk kerja kilang (pabrik) di Johor.
Gaji RM 2.500/bln + lembur. Umur 18-35 thn. Tdk perlu pengalaman.
Proses cepat 2 minggu langsung terbang!! Biaya proses 4jt bisa potong gaji.
Minat hub WA 0813-5566-7788 (Pak Anton)""", {"skip_process", "fee_forbidden", "contact_only_private", "no_address"}),
    ("Dicari ART utk majikan di Riyadh Arab Saudi. Gaji 7jt bersih, tiket & visa ditanggung. Berangkat pake visa "
     "umroh dulu nnt visa kerja diurus disana. Jgn bilang2 ke kantor desa ya. Hub kak Yanti 0852 1234 5678",
     {"moratorium", "visa_nonwork", "secrecy", "contact_only_private", "no_address"}),
    ("Peluang kerja di Kamboja!! Admin online / CS, gaji 12-15 juta, mess gratis, tiket ditanggung. Cukup KTP "
     "langsung berangkat lewat Bangkok. Kuota terbatas, siapa cepat dia dapat. Inbox aja",
     {"non_destination", "no_passport", "skip_process", "pressure", "contact_only_private", "no_address"}),
    ("""PT Sinar Jaya (P3MI resmi, SIP3MI DEMO-0001/2024) membuka lowongan Penata Laksana Rumah Tangga ke Hong Kong.
Syarat: wanita usia 21-40 thn, sehat, pendidikan min SMP, izin suami/orang tua diketahui kepala desa.
Pendaftaran di Disnaker Kab. Kupang / LTSA Kota Kupang. Pelatihan di BLK 3 bulan, medical di klinik resmi, OPP di BP3MI.
Tidak dipungut biaya apapun. Gaji HKD 5.100 sesuai kontrak. Kantor cabang: Jl. Timor Raya No. 12 Kupang""", set()),
    ("Info loker ke Taiwan!! Jaga oma di rumah, gaji NT$20.000. Syarat umur 20-40. Biaya 35 jt bisa cicil potong "
     "gaji 9 bulan. Daftar wa.me/6281234567890", {"fee_forbidden", "contact_only_private", "no_address"}),
    ("Butuh cepat ABK kapal ikan ke Korea & Taiwan. Gaji 15-20jt. Uang jaminan 5jt, paspor menyusul. Berangkat via "
     "Batam naik kapal. Hubungi 0812 9988 7766",
     {"fee_forbidden", "deposit", "no_passport", "irregular_route", "contact_only_private", "no_address"}),
    ("dicari nona2 umur 16 thn ke atas, tamat SMP blh, kerja restoran di Malaysia gaji 5jt. umur kurang bisa dibantu "
     "urus KTP. nanti jalan dari Kupang ke Nunukan baru nyebrang. jangan kasih tau orang tua",
     {"underage", "fake_identity", "irregular_route", "secrecy", "no_address"}),
    ("Lowongan kerja ke Jepang program SSW bidang caregiver dan manufaktur. Melalui PT Karya Timur Mandiri. Wajib "
     "ikut pelatihan bahasa Jepang 6 bulan di LPK. Info: kantor kami Jl. El Tari No. 8 Kupang", {"agency_unknown"}),
    ("LOWONGAN KE SINGAPURA: Domestic Helper, usia 19-35 thn, gaji SGD 650. Dibutuhkan segera! Proses resmi lewat "
     "PT Bintang Timur Sejahtera. Daftar di kantor cabang kami Jl Soekarno 5 Atambua",
     {"underage_domestic", "agency_sanctioned"}),
    ("Kerja di Thailand sebagai marketing online, gaji 18jt/bulan, tanpa pengalaman. Berangkat pakai visa turis, "
     "tiket PP disiapkan. Hub admin 0811 2233 4455",
     {"non_destination", "visa_nonwork", "contact_only_private", "no_address"}),
    ("Open recruitment perkebunan sawit Sabah! Gaji RM1.800 + bonus. Usia 20-45. Transfer DP 1.5jt ke rek BRI "
     "1234 5678 90 an Markus utk booking seat. Kuota tinggal 5 orang",
     {"deposit", "personal_account", "fee_forbidden", "pressure", "no_address"}),
    ("Dibutuhkan pengasuh bayi ke Malaysia, gaji 10 juta per bulan, majikan baik. Tanpa medical tanpa pelatihan. "
     "Hub sponsor 0821 7766 5544", {"high_pay", "skip_process", "contact_only_private", "no_address"}),
    ("PT Multi Intan Amanah Internasional merekrut operator pabrik elektronik ke Taiwan. Gaji NT$28.000. Biaya "
     "sesuai ketentuan. Kantor: Jl. Lingkar Luar Utara, Bekasi", {"agency_sanctioned"}),
    ("Program G to G Korea Selatan (EPS-TOPIK) dibuka! Pendaftaran ujian bahasa Korea lewat Disnaker/LTSA dan "
     "BP3MI, tidak lewat calo. Gaji sesuai upah minimum Korea. Info resmi di siskop2mi.bp2mi.go.id", set()),
    ("Lowongan sopir keluarga di Brunei. Gaji B$700. Biaya tiket pesawat dan medical ditanggung sendiri, bayar "
     "6 juta ke kantor. Alamat kantor Jl. Cak Doko 3 Kupang, PT Rajawali Emas Nusantara",
     {"fee_forbidden", "agency_unknown"}),
    ("Cari kerja? Kerja di Dubai jadi baby sitter, gaji 9 juta, berangkat minggu depan. Kalau ditanya petugas "
     "bandara bilang mau liburan. WA 0812-1111-2222",
     {"moratorium", "skip_process", "secrecy", "visa_nonwork", "contact_only_private", "no_address"}),
    ("Lowongan PLRT Malaysia lewat PT Sinar Jaya Abadi, resmi terdaftar di Disnaker. Usia 21-45 tahun. Gaji RM1.700. "
     "Semua biaya ditanggung majikan, tanpa potongan gaji. Pelatihan 200 jam di BLK, medical, OPP. Kantor Jl. "
     "Veteran 7 Kupang", set()),
    ("URGENT!!! Kerja di Myanmar jadi CS judi online gaji 20jt. Paspor dibuatkan, nama di paspor diganti biar "
     "cepat. Langsung jalan besok. Rahasiakan dari keluarga",
     {"non_destination", "fake_identity", "skip_process", "secrecy", "high_pay", "no_address"}),
    ("Lowongan kerja perawat lansia (caregiver) Taiwan. PT Cahaya Abadi Nusantara. Gaji NT$ 20.000. Usia 20-40. "
     "Biaya penempatan sesuai aturan BP2MI, bebas biaya untuk jabatan pengasuh lansia. Daftar di LTSA Kota Kupang",
     {"agency_unknown"}),
    ("Kerja di Malaysia tanpa paspor, masuk lewat jalan tikus dari Entikong. Gaji 6 jt. Bayar 2 juta ke saya dulu. "
     "Hubungi Om Simon 0813 4455 6677",
     # "bayar 2 juta ... dulu": money asked up front, before any contract, is also a deposit
     {"no_passport", "irregular_route", "personal_account", "deposit", "contact_only_private", "no_address"}),
    ("Hiring! Maid to Malaysia. Salary RM1500. Agent fee RM3000 deduct from salary 6 months. No passport needed, we "
     "arrange everything. WhatsApp +60 12-345 6789", {"fee_forbidden", "no_passport", "contact_only_private", "no_address"}),
    ("Jawatan kosong pembantu rumah di Sarawak. Gaji RM1400. Yuran pendaftaran RM500. Tidak perlu pasport, kami "
     "uruskan. Hubungi 012-3456789",
     {"fee_forbidden", "deposit", "no_passport", "contact_only_private", "no_address"}),
    ("LOKER PABRIK KOREA gaji 40jt/bln!!! tanpa tes, tanpa bahasa korea, bayar 25jt lunas langsung terbang. dm aja",
     {"high_pay", "skip_process", "no_address", "contact_only_private"}),
    ("halo bapa, ini sa om niko. ada kerja di kebun sawit Tawau, gaji bagus. nona cukup siap uang jaminan 2 juta "
     "sa. jang kasi tau orang kampung e. uang tu kirim ke sa pung rekening BRI. kalau mau telpon beta malam ini",
     {"fee_forbidden", "deposit", "secrecy", "personal_account", "contact_only_private", "no_address"}),
]


@pytest.fixture(scope="module")
def rules():
    return load_rules(RULES)


@pytest.fixture(scope="module")
def content():
    return Content(PROJECT_ROOT / "content")


@pytest.fixture
def app(sqlite_url):
    """The real services (registry seeded, reports on); the engine is not used by these tests."""
    settings = settings_for(database_url=sqlite_url, report_encryption_key=new_key(), taskforce_chat_id="-1001234")
    with build_app(settings, fallback_only=True) as built:
        yield built


def text_of(replies) -> str:
    return "\n".join(html_to_text(reply.text) for reply in replies)


def buttons_of(replies) -> list[tuple[str, str]]:
    return [(b.label, b.data) for reply in replies for b in reply.buttons]


# ---- the rules file ------------------------------------------------------------------------------

def test_the_shipped_rules_load_with_every_sign_and_pass_their_own_examples(rules, content):
    assert {rule.id for rule in rules.signs} == SIGN_IDS
    assert all(rule.reason and rule.legal_basis and rule.title for rule in rules.signs)
    assert check_offer_rules(PROJECT_ROOT / "content", content.countries) == []


@pytest.mark.parametrize("change, message", [
    ({"patterns": ["(?:dp"]}, "is not a valid regex"),
    ({"patterns": ["%NOPE%"]}, "unknown macro %NOPE%"),
    ({"needs": ["tidak_ada"]}, "vocabulary group 'tidak_ada' does not exist"),
    ({"kind": "sihir"}, "kind must be one of"),
    ({"severity": "gawat"}, "severity must be one of"),
    ({"legal_basis": ""}, "legal_basis is required"),
    ({"reason": "Bayar di {negara}"}, "unknown placeholder"),
])
def test_a_broken_rule_is_an_error_naming_the_file_and_the_rule(tmp_path, change, message):
    raw = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    next(rule for rule in raw["signs"] if rule["id"] == "deposit").update(change)
    path = tmp_path / "offer_rules.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert str(path) in str(raised.value) and "'deposit'" in str(raised.value) and message in str(raised.value)


def test_a_broken_rules_file_keeps_the_previous_rules_serving(tmp_path):
    path = tmp_path / "offer_rules.yml"
    shutil.copy(RULES, path)
    store = RuleStore(path)
    before = store.current()
    path.write_text("signs: [tidak lengkap\n", encoding="utf-8")
    assert store.current() is before


def test_content_check_names_an_example_that_does_not_show_its_sign(tmp_path, content):
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", root)
    path = root / "offer_rules.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "      - Tidak ada uang jaminan atau biaya pendaftaran.\n",
        "      - Tidak ada uang jaminan atau biaya pendaftaran.\n      - Bayar uang jaminan 3 juta dulu.\n"),
        encoding="utf-8")
    errors = check_offer_rules(root, content.countries)
    assert len(errors) == 1 and str(path) in errors[0] and "'deposit'" in errors[0] and "not_example" in errors[0]


def test_a_legal_basis_without_an_article_is_an_error(tmp_path, content):
    root = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", root)
    path = root / "offer_rules.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "legal_basis: UU 18/2017 Pasal 69 (perseorangan dilarang menempatkan PMI)",
        "legal_basis: UU 18/2017 tentang PMI"), encoding="utf-8")
    errors = check_offer_rules(root, content.countries)
    assert any("'contact_only_private'" in e and "names no article" in e for e in errors)


# ---- the analysis --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", DEV_OFFERS, ids=[f"dev{i:02d}" for i in range(len(DEV_OFFERS))])
def test_development_offers_get_exactly_their_signs(app, rules, content, text, expected):
    check = analyse(text, rules, app.registry, content.countries)
    assert check.sign_ids == expected, [(s.id, s.snippet) for s in check.signs]
    serious = {rule.id for rule in rules.signs if rule.serious}
    assert check.verdict == ("bahaya" if expected & serious else "hati_hati" if expected else "tidak_ditemukan")


def test_signs_come_serious_first_with_the_words_that_show_them(app, rules, content):
    check = analyse(DEV_OFFERS[5][0], rules, app.registry, content.countries)
    severities = [sign.severity for sign in check.signs]
    assert severities == sorted(severities, key=lambda s: s != "serious")
    deposit = next(sign for sign in check.signs if sign.id == "deposit")
    assert deposit.snippet == "Uang jaminan" and "Pasal 30" in deposit.legal_basis


def test_agencies_and_countries_named_are_reported(app, rules, content):
    check = analyse(DEV_OFFERS[8][0], rules, app.registry, content.countries)
    [named] = check.agencies
    assert named.verdict == "sanctioned" and named.record.name == "PT Bintang Timur Sejahtera"
    assert check.countries == ("sg",)
    underage = next(sign for sign in check.signs if sign.id == "underage_domestic")
    assert "Singapura" in underage.reason and "23" in underage.reason and underage.snippet == "usia 19-35"


def test_a_licence_number_finds_the_agency(app, rules, content):
    check = analyse("Lowongan resmi ke Hong Kong, izin no. DEMO-0003/2022, daftar di kantor kami Jl. Mawar 2 Kupang",
                    rules, app.registry, content.countries)
    assert [a.record.name for a in check.agencies] == ["PT Bintang Timur Sejahtera"]
    assert "agency_sanctioned" in check.sign_ids


def test_news_reporting_a_revoked_licence_is_not_an_offer_by_that_company(app, rules, content):
    news = ("Kementerian P2MI mencabut izin PT Multi Intan Amanah Internasional. Masyarakat diminta tidak mendaftar "
            "lowongan kerja luar negeri melalui perusahaan tersebut.")
    check = analyse(news, rules, app.registry, content.countries)
    assert check.verdict == "tidak_ditemukan" and check.agencies[0].verdict == "sanctioned" and not check.offer_like
    replies = offer.answer(app.content.current(), ConversationState(chat_id=2), app.registry, rules, news, app.reports)
    assert text_of(replies).startswith("ℹ️ Pesan ini tidak tampak seperti tawaran kerja") and "DICABUT" in text_of(replies)
    assert "berita tentang sanksi" in text_of(replies)  # the data stamp of the row shown


def test_negations_in_a_legal_offer_raise_no_sign(rules, content):
    legal = ("Lowongan PRT Hong Kong lewat P3MI resmi. Tidak ada uang jaminan, tidak ada potong gaji, bukan visa "
             "turis. Jangan bayar ke rekening pribadi siapa pun. Pekerjaan hotel, bukan di rumah tangga.")
    assert analyse(legal, rules, None, content.countries).sign_ids & {
        "deposit", "fee_forbidden", "visa_nonwork", "personal_account"} == set()


def test_a_warning_about_fake_offers_is_not_an_offer(rules, content):
    warning = ("Waspada lowongan kerja palsu! Disnaker mengimbau masyarakat agar tidak percaya lowongan yang "
               "menjanjikan gaji 25 juta, berangkat pakai visa turis, atau meminta transfer ke rekening pribadi.")
    check = analyse(warning, rules, None, content.countries)
    assert check.signs == () and not check.offer_like


# ---- generalisation: how people write money, jobs and documents -----------------------------------

# Offers written to check that the rules generalise beyond the development offers (none of them was used to write
# a pattern for it alone). Same companies as DEV_OFFERS; PT Maju Terus Jaya and PT Harapan Kasih Mandiri are made up.
GENERAL_OFFERS = [
    ("Dicari TKW ke Malaysia lewat PT Maju Terus Jaya, gaji 9 juta, bayar biaya proses 5 juta di depan, hubungi WA "
     "0812 3456 1111", {"fee_forbidden", "deposit", "high_pay", "agency_unknown", "contact_only_private"}),
    ("Dibutuhkan TKW utk Malaysia, kerja jaga anak & masak. Gaji 2,5jt/bln. Biaya urus berkas 3jt, bayar sebelum "
     "berangkat. Minat WA 0823 4411 2290", {"fee_forbidden", "deposit", "contact_only_private", "no_address"}),
    ("Ada karja di kilang papan Sarawak, gaji 3 juta lebe. Sapa mau, siap doi 1,5 juta buat urus paspor deng tiket, "
     "kasi ke beta dolo. Nanti brangkat dari Kupang ke Nunukan baru masuk. Telpon beta 0813 3900 2211",
     {"personal_account", "deposit", "irregular_route", "contact_only_private", "no_address"}),
    ("Lowongan sopir lori di Malaysia, gaji RM 2.200. Kos lesen & permit RM 800 bayar tunai di depan kpd ejen. Hub "
     "011-2345 6789", {"fee_forbidden", "deposit", "contact_only_private", "no_address"}),
    ("Dibutuhkan cleaning service hotel di Dubai, gaji 7jt, Rp.5.000.000,- utk proses visa dibayar sebelum tanda "
     "tangan kontrak. Hub Bpk Ali 0813 6464 7575", {"fee_forbidden", "deposit", "contact_only_private", "no_address"}),
    ("Hiring nanny for family in Kuala Lumpur. Age 22-40. Salary RM1,600. Placement fee RM2,000 to be paid before "
     "flight. Whatsapp 017-889 2211", {"fee_forbidden", "deposit", "contact_only_private", "no_address"}),
    ("Kerja ke Saudi jadi TKW, gaji 8 juta, berangkat 2 minggu, cukup KTP dan KK, paspor kami buatkan. Hub ibu "
     "Aisyah 0821 7171 8282", {"moratorium", "skip_process", "no_passport", "contact_only_private", "no_address"}),
    ("Dicari operator kilang di Penang Malaysia, gaji RM 2.000. Bayar yuran proses RM 1.200 sebelum kontrak, akaun "
     "Maybank a/n Ahmad bin Salleh. Hubungi 012-778 9900",
     {"deposit", "personal_account", "contact_only_private", "no_address"}),
    ("Loker pabrik plastik di Taiwan, gaji NT$ 27.000. Biaya 45jt, bayar 15jt di depan, sisa potong gaji. Daftar "
     "lewat PT Harapan Kasih Mandiri, Jl. Sudirman 12 Atambua", {"fee_forbidden", "deposit", "agency_unknown"}),
    # legal: a TKW for a restaurant is not a domestic worker, and medical is a personal cost for that job
    ("Dibutuhkan 5 org TKW utk kerja di rumah makan Brunei, gaji B$ 600. Biaya medical 1,2jt bayar sendiri. Proses "
     "lewat PT Cahaya Abadi Nusantara, kantor Jl. Jend Sudirman 4 Kupang", {"agency_unknown"}),
    ("Lowongan ART ke Taiwan, usia 21-40, gaji NT$ 20.000. Biaya Rp 0, tanpa potongan gaji, tiket ditanggung "
     "majikan. Proses lewat PT Sinar Jaya, daftar di LTSA Kupang, kantor Jl. Timor Raya 12", set()),
    ("Lowongan operator pabrik Taiwan lewat PT Sinar Jaya. Biaya penempatan Rp 25.000.000 dibayar sebelum "
     "berangkat, bisa pinjaman KUR. Daftar di LTSA, kantor Jl. Timor Raya 12 Kupang.", set()),
]


@pytest.mark.parametrize("text, expected", GENERAL_OFFERS, ids=[f"gen{i:02d}" for i in range(len(GENERAL_OFFERS))])
def test_offers_written_in_other_words_get_exactly_their_signs(app, rules, content, text, expected):
    check = analyse(text, rules, app.registry, content.countries)
    assert check.sign_ids == expected, [(s.id, s.snippet) for s in check.signs]


def signs_of(text, rules, content):
    return analyse(text, rules, None, content.countries).sign_ids


@pytest.mark.parametrize("text, job_signs", [
    ("Lowongan TKW ke Arab Saudi, gaji 6 juta, hubungi kantor kami.", {"moratorium"}),
    ("Dicari TKW ke Malaysia, gaji 10 juta, potong gaji 5 bulan.", {"high_pay", "fee_forbidden"}),
    ("Dicari TKW untuk pabrik elektronik di Arab Saudi, gaji 10 juta.", set()),  # another job is named
    ("Dicari tenaga kerja wanita untuk restoran di Malaysia, biaya medical 1jt bayar sendiri.", set()),
])
def test_tkw_is_read_as_written_and_means_domestic_work_unless_another_job_is_named(rules, content, text, job_signs):
    assert signs_of(text, rules, content) & {"moratorium", "high_pay", "fee_forbidden"} == job_signs


@pytest.mark.parametrize("text", [
    "Kerja kilang di Johor. Biaya urus 3jt, bayar sebelum berangkat.",
    "Kerja kilang di Johor. Siapkan uang 5 juta, transfer sblm berangkat.",
    "Kerja kilang di Johor. Wajib setor Rp 2.500.000 untuk seragam dan berkas minggu ini.",
    "Kerja kilang di Johor. Kos proses RM 2,500 bayar separuh dulu.",
    "Factory work in Johor. Processing fee RM 1,500 must be paid in advance.",
    "Kerja kilang di Johor. Biaya lima juta dibayar saat daftar.",
])
def test_money_asked_before_anything_else_is_a_deposit_however_it_is_written(rules, content, text):
    assert "deposit" in signs_of(text, rules, content)


@pytest.mark.parametrize("text", [
    "Kerja kilang di Johor. Biaya 6jt, tidak perlu bayar di depan, dipotong dari gaji nanti.",
    "Kerja kilang di Johor. Gaji RM 1.500 dibayar tiap bulan, berangkat sebelum Natal.",
    "Kerja pabrik Taiwan. Biaya penempatan 25jt dibayar sebelum berangkat, bisa pinjaman KUR.",
    "Kerja pabrik Malaysia. Biaya paspor Rp 350.000 ditanggung calon sebelum berangkat, sesuai Perban 2/2020.",
    "Kerja pabrik Malaysia. Siapkan dokumen sebelum berangkat: paspor, KTP, KK.",
])
def test_later_wage_or_official_payments_are_no_deposit(rules, content, text):
    assert "deposit" not in signs_of(text, rules, content)


@pytest.mark.parametrize("text, fee", [
    ("Lowongan PRT Malaysia, pendaftaran 250rb saja.", True),
    ("Lowongan sopir di Brunei, RM 800 bayar tunai kepada ejen.", True),
    ("Lowongan pengasuh anak, Rp.3.000.000,- untuk visa.", True),
    ("Lowongan PRT Malaysia, biaya Rp 0, tiket ditanggung majikan.", False),
    ("Lowongan PRT Malaysia, majikan bayar gaji RM 1.700 tiap bulan.", False),
    ("Penempatan Malaysia RM 1.700 per bulan, pekerja ladang, semua biaya ditanggung majikan.", False),
    ("Lowongan caregiver Taiwan, uang makan selama pelatihan Rp 50.000 per hari.", False),
    ("Lowongan cleaning service Taiwan. Biaya medical Rp 1.200.000 diganti majikan setelah tiba.", False),
])
def test_any_amount_the_worker_pays_for_a_protected_job_is_a_forbidden_fee(rules, content, text, fee):
    assert ("fee_forbidden" in signs_of(text, rules, content)) is fee


@pytest.mark.parametrize("text, sign", [
    ("Kerja di Malaysia, cukup KTP dan KK langsung jalan.", "no_passport"),
    ("Kerja sawit Malaysia. Syarat KTP saja, paspor nanti dibuat di Entikong.", "no_passport"),
    ("Kerja di Malaysia, kasih saya 1 juta dulu utk urus surat.", "personal_account"),
    ("Kerja pembantu di Jeddah, berangkat lewat umroh.", "visa_nonwork"),
    ("Kerja kebun di Sarawak, berangkat naik bis dari Pontianak ke Kuching.", "irregular_route"),
])
def test_other_ways_of_writing_a_sign(rules, content, text, sign):
    assert sign in signs_of(text, rules, content)


def test_amounts_and_kk_are_read_as_written():
    offer = OfferText("Placement fee RM2,000, Rp.5.000.000,- utk visa. Cukup KTP dan KK. Hub kk Ina")
    assert [clause.norm for clause in offer.clauses] == [
        "placement fee rm 2 000", "rp 5 000 000 untuk visa", "cukup ktp dan kk", "hub kk ina"]


@pytest.mark.parametrize("change, message", [
    ({"implied": {"tidak_ada": {"words": ["tkw"]}}}, "implied: tidak_ada: vocabulary group 'tidak_ada' does not exist"),
    ({"implied": {"domestic_work": {"words": ["tkw"], "unless": "nope"}}}, "unless: vocabulary group 'nope'"),
    ({"macros": {"LOOP": "a|%LOOP%"}, "vocabulary_extra": ["%LOOP%"]}, "macro %LOOP% uses itself"),
])
def test_a_broken_implied_job_or_macro_is_an_error(tmp_path, change, message):
    raw = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    if "implied" in change:
        raw["implied"] = change["implied"]
    else:
        raw["macros"].update(change["macros"])
        raw["vocabulary"]["loop"] = change["vocabulary_extra"]
    path = tmp_path / "offer_rules.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_patterns_when_needs_when_sentence(tmp_path):
    raw = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    del next(rule for rule in raw["signs"] if rule["id"] == "deposit")["when_sentence"]
    path = tmp_path / "offer_rules.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RulesError, match="patterns_when and when_sentence go together"):
        load_rules(path)


def test_a_2000_character_offer_is_read_well_under_100_ms(app, rules, content):
    text = "\n".join(t for t, _ in DEV_OFFERS)[:2000]
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        analyse(text, rules, app.registry, content.countries)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[len(timings) // 2] < 0.1


@pytest.mark.parametrize("text", [
    DEV_OFFERS[0][0], DEV_OFFERS[3][0], DEV_OFFERS[20][0], DEV_OFFERS[21][0], DEV_OFFERS[23][0],
    "Halo kak, anak saya ditawari kerja di Malaysia gaji 8 juta oleh PT Maju Terus, berangkat minggu depan tanpa "
    "paspor. Apakah ini resmi?",
])
def test_pasted_offers_are_recognised(text):
    assert looks_like_offer(text)


@pytest.mark.parametrize("text", [
    "Berapa gaji PRT di Malaysia?",
    "Saya mau tanya, kalau kerja di Malaysia gaji berapa dan syaratnya apa saja? Umur saya 25 tahun dan belum "
    "punya paspor.",
    "kak sy mau tanya gaji pmi di taiwan brp ya? kalau mau daftar harus ke disnaker atau ke pt? makasih banyak kak",
    "Gaji saya belum dibayar 3 bulan oleh majikan di Malaysia, saya harus lapor ke mana? Tolong bantu kami ya kak.",
    "Mama, puji Tuhan gaji bulan ini sudah masuk. Saya kirim 2 juta lewat BRI untuk uang sekolah adik. Salam untuk "
    "bapa dan oma.",
    "", "😀" * 4000,
])
def test_questions_and_other_messages_are_not_taken_for_offers(text):
    assert not looks_like_offer(text)


# ---- the conversation ----------------------------------------------------------------------------

def test_start_asks_for_the_offer(content):
    state = ConversationState(chat_id=1)
    replies = offer.start(content, state)
    assert offer.waiting_for_offer(state)
    assert "Tempel" in text_of(replies) and "tidak kami simpan" in text_of(replies)
    assert buttons_of(replies) == [("🏠 Menu utama", "menu")]


def test_a_dangerous_offer_gets_the_verdict_signs_agencies_next_steps_and_buttons(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=1)
    offer.start(content, state)
    checks = []
    replies = offer.answer(content, state, app.registry, rules, DEV_OFFERS[8][0], app.reports, on_check=checks.append)
    text = text_of(replies)
    assert checks[0].counts() == {"verdict": "bahaya", "signs": ["agency_sanctioned", "underage_domestic"],
                                  "agencies": ["PT Bintang Timur Sejahtera"], "agencies_unregistered": 0,
                                  "countries": ["sg"]}
    assert text.startswith("🔴 BAHAYA")
    assert "Di bawah umur minimum negara tujuan" in text and "Dasar: UU 18/2017 Pasal 79" in text
    assert "PT Bintang Timur Sejahtera: izin DIHENTIKAN SEMENTARA" in text
    assert "Negara yang disebut: Singapura" in text
    assert "Disnaker" in text and "0800-1000" in text and "+62 21 29244800" in text
    assert "data contoh" in text  # the demo registry row says so
    assert buttons_of(replies) == [("🚨 Laporkan tawaran ini", "offer:report"),
                                   ("🏢 Cek perusahaan lain", "offer:agency"), ("🏠 Menu utama", "menu")]
    assert not offer.waiting_for_offer(state)


@pytest.mark.parametrize("text, first_line", [
    (DEV_OFFERS[7][0], "🟠 HATI-HATI"),
    (DEV_OFFERS[3][0], "🟢 Tidak ditemukan tanda bahaya yang kami kenal"),
])
def test_weaker_and_no_signs_never_say_safe(app, rules, text, first_line):
    content, state = app.content.current(), ConversationState(chat_id=1)
    replies = offer.answer(content, state, app.registry, rules, text, app.reports)
    assert text_of(replies).startswith(first_line)
    assert "aman" not in text_of(replies).lower().replace("amanah", "")


def test_many_signs_stay_under_telegrams_limit_and_show_at_most_six(app, rules):
    everything = " ".join(t for t, expected in DEV_OFFERS if expected) * 3
    content, state = app.content.current(), ConversationState(chat_id=1)
    replies = offer.answer(content, state, app.registry, rules, everything, app.reports)
    assert len(replies) == 1 and len(replies[0].text) <= 4000
    shown = [line for line in text_of(replies).splitlines() if line.startswith(("🔴 ", "🟠 ")) and "BAHAYA" not in line]
    assert len(shown) == 6 and "tanda lain" in text_of(replies)
    assert "bagian awalnya" in text_of(replies)  # longer than the part read


def test_five_companies_are_checked_and_more_are_counted(app, rules):
    companies = ("Lowongan ke Malaysia lewat PT Sinar Jaya, PT Satu Cahaya Timur, PT Dua Bintang Laut, "
                 "PT Tiga Gunung Emas, PT Empat Samudra Biru dan PT Lima Pelangi Nusa. Gaji 5jt. WA 0812 1111 2222")
    content, state = app.content.current(), ConversationState(chat_id=1)
    text = text_of(offer.answer(content, state, app.registry, rules, companies, app.reports))
    assert "PT Sinar Jaya: terdaftar dan aktif" in text and text.count("tidak ditemukan di data kami") == 4
    assert "dan 1 perusahaan lain yang tidak kami cek" in text


def test_the_report_button_starts_a_report_with_the_offer_and_agency_filled_in(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=7)
    flow = ReportFlow(app.reports, app.registry)
    scam = DEV_OFFERS[8][0]
    offer.answer(content, state, app.registry, rules, scam, app.reports)
    assert scam not in repr(state.data)  # kept encrypted, never in the clear
    replies = offer.on_press(content, state, "report", flow, app.reports)
    assert state.flow == "report" and state.step == "danger" and "bahaya sekarang" in text_of(replies)
    summary = text_of(flow.on_press(content, state, "danger_no"))
    assert state.step == "confirm" and "Kontak: anonim" in summary
    assert "Dibutuhkan segera" in summary and "PT Bintang Timur Sejahtera (di data kami: PT Bintang Timur Sejahtera)" in summary
    sent = flow.on_press(content, state, "send")
    assert "TPPO-" in text_of(sent)
    [report] = app.reports.repository.listing(open_only=True)
    details = app.reports.details(report)
    assert details["what"] == scam and details["who"] == "PT Bintang Timur Sejahtera"
    assert report.agency_id is not None


def test_the_offer_text_is_dropped_when_the_user_does_something_else(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=8)
    flow = ReportFlow(app.reports, app.registry)
    offer.answer(content, state, app.registry, rules, DEV_OFFERS[1][0], app.reports)
    offer.discard(state)
    assert state.flow is None and state.data == {}
    offer.on_press(content, state, "report", flow, app.reports)  # an old button: a plain report, nothing filled
    flow.on_press(content, state, "danger_no")
    assert state.step == "what" and not app.reports.open_draft(flow.draft(state)).what


def test_without_reports_nothing_is_kept_and_the_button_says_reporting_is_off(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=9)
    offer.answer(content, state, app.registry, rules, DEV_OFFERS[1][0], None)
    assert state.data == {"offer": {"secret": None}}
    replies = offer.on_press(content, state, "report", ReportFlow(None, app.registry), None)
    assert state.flow is None and replies


def test_the_agency_button_asks_for_a_company(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=10)
    offer.answer(content, state, app.registry, rules, DEV_OFFERS[1][0], app.reports)
    offer.on_press(content, state, "agency", ReportFlow(app.reports, app.registry), app.reports)
    assert state.flow == "agency" and state.step == "ask" and "offer" not in state.data


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("", "tidak menemukan kata-kata"),
    ("   ", "tidak menemukan kata-kata"),
    ("😀" * 4000, "tidak menemukan kata-kata"),
    ("Berapa gaji PRT di Malaysia?", "terlalu pendek"),
])
def test_empty_emoji_and_short_text_ask_for_the_offer_again(app, rules, text, expected):
    content, state = app.content.current(), ConversationState(chat_id=11)
    replies = offer.answer(content, state, app.registry, rules, text, app.reports)
    assert expected in text_of(replies) and offer.waiting_for_offer(state)


@pytest.mark.parametrize("kind, expected", [
    ("sticker", "stiker"), ("voice", "pesan suara"), ("video", "video"), ("photo", "Teks di dalam gambar"),
])
def test_a_forwarded_sticker_voice_note_or_bare_photo_gets_a_sensible_answer(app, rules, kind, expected):
    content, state = app.content.current(), ConversationState(chat_id=12)
    replies = offer.on_attachment(content, state, app.registry, rules, kind, None, app.reports)
    assert expected in text_of(replies) and offer.waiting_for_offer(state)


def test_a_flyer_photo_is_checked_by_its_caption_and_says_pictures_are_not_read(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=13)
    replies = offer.on_attachment(content, state, app.registry, rules, "photo", DEV_OFFERS[9][0], app.reports)
    text = text_of(replies)
    assert text.startswith("🔴 BAHAYA") and "Teks di dalam gambar belum bisa kami baca" in text


@pytest.mark.parametrize("index", [20, 21])
def test_english_and_malay_offers_are_checked(app, rules, index):
    content, state = app.content.current(), ConversationState(chat_id=14)
    text = text_of(offer.answer(content, state, app.registry, rules, DEV_OFFERS[index][0], app.reports))
    assert text.startswith("🔴 BAHAYA") and "Tanpa paspor atau dokumen" in text


def test_user_text_is_escaped(app, rules):
    content, state = app.content.current(), ConversationState(chat_id=15)
    replies = offer.answer(content, state, app.registry, rules,
                           "Lowongan PRT Malaysia, biaya <script>proses</script> 5 juta, WA 0812 3456 7890",
                           app.reports)
    assert "<script>" not in replies[0].text and "&lt;script&gt;" in replies[0].text


# ---- the channel ---------------------------------------------------------------------------------

def _message_update(**message) -> Update:
    data = {"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 3, "type": "private"},
                                        "from": {"id": 3, "is_bot": False, "first_name": "A"}, **message}}
    return Update.de_json(data, None)


@pytest.mark.parametrize("message, expected", [
    ({"text": "Lowongan PRT"}, Incoming(3, 3, text="Lowongan PRT", update_id=5)),
    ({"text": "Lowongan PRT", "forward_origin": {"type": "hidden_user", "date": 0, "sender_user_name": "X"}},
     Incoming(3, 3, text="Lowongan PRT", forwarded=True, update_id=5)),
    ({"photo": [{"file_id": "f1", "file_unique_id": "u1", "width": 1, "height": 1}], "caption": "Loker Malaysia",
      "forward_origin": {"type": "hidden_user", "date": 0, "sender_user_name": "X"}},
     Incoming(3, 3, text="Loker Malaysia", attachment="photo", file_id="f1", forwarded=True, update_id=5)),
    ({"sticker": {"file_id": "s1", "file_unique_id": "u2", "width": 1, "height": 1, "is_animated": False,
                  "is_video": False, "type": "regular"}},
     Incoming(3, 3, attachment="sticker", file_id="s1", update_id=5)),
])
def test_the_telegram_channel_passes_forwarding_and_photo_captions(monkeypatch, message, expected):
    seen = []

    async def capture(_context, incoming):
        seen.append(incoming)

    monkeypatch.setattr(telegram_channel, "_handle", capture)
    asyncio.run(telegram_channel.on_message(_message_update(**message), None))
    assert seen == [expected]


def test_the_evaluation_exits_non_zero_below_target(tmp_path):
    from bot.offers import evaluation

    cases = tmp_path / "offers.yml"
    cases.write_text(yaml.safe_dump([
        {"id": "a", "text": "Lowongan PRT Malaysia lewat PT Sinar Jaya, tanpa biaya, kantor Jl. Mawar 1 Kupang.",
         "signs": ["deposit"], "verdict": "bahaya", "note": "labelled wrong on purpose"},
        {"id": "b", "text": "Kerja di Kamboja, gaji 12 juta, berangkat pakai visa turis. WA 0812 3456 7890",
         "signs": ["non_destination", "visa_nonwork", "contact_only_private", "no_address"], "verdict": "bahaya",
         "note": ""},
    ]), encoding="utf-8")
    out = io.StringIO()
    assert evaluation.run(PROJECT_ROOT / "content", cases, out=out) == 1
    assert "TARGET MISSED: recall of serious signs 66.7%" in out.getvalue()
    assert "non_destination" in out.getvalue() and "p99" in out.getvalue()

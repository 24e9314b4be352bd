"""Each FAQ answer states the facts it must state (from the domain reference), as the user reads them."""
import io
import re
import shutil

import pytest

from bot.content import Content
from bot.content_check import check_content
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
from tests.helpers import buttons_of, press

CONTENT = Content(PROJECT_ROOT / "content")

KEY_FACTS = {
    "syarat": ["minimal 18 tahun", "kompetensi", "Sehat jasmani dan rohani", "jaminan sosial", "Dokumen lengkap",
               "batas dari Indonesia", "Singapura harus berumur 23 sampai di bawah 50 tahun", "21 sampai 45 tahun",
               "tanda bahaya"],
    "dokumen": ["status perkawinan", "diketahui kepala desa atau lurah", "Sertifikat kompetensi", "psikologi",
                "Paspor", "Visa kerja", "Perjanjian Penempatan", "Perjanjian Kerja", "KTP, KK, akta kelahiran, ijazah"],
    "alur": ["Disnaker", "LTSA", "gratis", "seleksi", "kesehatan dan psikologi", "Perjanjian Penempatan",
             "jaminan sosial", "visa kerja", "Orientasi Pra Pemberangkatan (OPP)", "Perjanjian Kerja", "berangkat",
             "Permen P2MI 4/2025 Pasal 9", "LTSA (Layanan Terpadu Satu Atap)", "Urutannya secara umum",
             "hanya LTSA di Kota Kupang yang masih aktif"],
    "biaya": ["tidak boleh dibebani biaya penempatan", "Pasal 30", "10 jenis pekerjaan", "awak kapal perikanan migran",
              "tiket berangkat dan pulang", "jasa perusahaan", "SKCK", "transport lokal", "Permen P2MI 17/2025",
              "belum kami pastikan", "Peraturan BP2MI 2/2020 Pasal 3",
              "apakah transport lokal dan akomodasi juga gratis belum kami pastikan", "dipotong dari gaji",
              "surat utang", "jeratan utang", "UU 21/2007 Pasal 1", "+62 21 29244800"],
    "jalur_resmi": ["P3MI", "G to G", "Korea Selatan", "menempatkan pekerjanya sendiri", "berbadan hukum"],
    "cek_perusahaan": ["SIP3MI", "kantor cabang itu harus terdaftar", "SIP2MI", "menyebut negara tujuannya",
                       "siskop2mi.bp2mi.go.id", "0800-1000"],
    "calo": ["10 tahun", "Rp15 miliar", "Pasal 81"],
    "tanda_penipuan": ["Visa turis, ziarah, atau kunjungan", "rekening pribadi", "Paspor, dokumen, atau HP ditahan",
                       "Umur atau KTP dipalsukan", "Tanpa perjanjian kerja yang jelas", "penampungan", "orang tua diberi uang",
                       "tanpa Orientasi Pra Pemberangkatan", "di bawah 23 tahun"],
    "tppo": ["Tindak Pidana Perdagangan Orang", "Walaupun korban setuju", "3 sampai 15 tahun", "Rp120 juta sampai Rp600 juta", "tidak dipidana",
             "UU 21/2007 Pasal 18", "+62 21 29244800"],
    "negara_terlarang": ["Kamboja dan Myanmar BUKAN negara tujuan", "Menteri dan Wakil Menteri P2MI",
                         "belum kami pastikan", "Kepmenaker 260/2015", "sejak 2015", "Juli 2025", "masih berlaku", "Permen P2MI 3/2025",
                         "+62 21 29244800"],
    "bpjs": ["JKK", "JKM", "JHT", "Pilihan (opsional)", "Rp37.500", "Rp108.000", "Rp189.000", "Rp332.500",
             "Rp13.500 per bulan", "belum kami pastikan", "10 jenis pekerjaan", "+62 21 29244800"],
    "opp": ["wajib diikuti", "BP3MI", "mengelola uang", "E-KPMI", "UU 18/2017 Pasal 12",
            "proses yang dipersyaratkan sebelum bekerja", "wajib mendaftarkan calon pekerjanya ke OPP",
            "Layanan Terpadu Satu Atap", "tanpa OPP? Laporkan", "0800-1000"],
    "pelatihan": ["sertifikat kompetensi", "BLK", "tidak boleh dibebankan"],
    "kesehatan": ["kesehatan dan psikologi", "surat keterangan sehat", "10 jenis pekerjaan", "+62 21 29244800"],
    "paspor": ["Anda sendiri yang memegangnya", "visa kerja", "kerja paksa", "+62 21 29244800"],
    "visa": ["VISA KERJA", "Visa turis", "tiket pulang", "+62 21 29244800"],
    "perjanjian_kerja": ["jam kerja, gaji dan cara pembayarannya", "lama perjanjian", "jaminan keamanan",
                         "simpan salinannya", "Pasal 15", "kontrak baru yang lebih buruk",
                         "tidak boleh diubah tanpa persetujuan Anda", "UU 18/2017 Pasal 18", "tindak pidana",
                         "UU 18/2017 Pasal 82", "KBRI/KJRI", "+62 21 29244800", "+62 811-8080-141"],
    "hak_kewajiban": ["memegang sendiri paspor", "tidak dibebani biaya penempatan",
                      "melaporkan kedatangan, keberadaan, dan kepulangan", "+62 811-8080-141"],
    "e_pmi": ["E-KPMI", "Permen P2MI 34/2025", "tetap berlaku", "paling lambat 1 tahun sejak Permen P2MI 34/2025 resmi terbit",
              "bukan dari tanggal kartu Anda habis", "+62 21 29244800"],
    "pendaftaran_online": ["SIAPkerja", "Sisko P2MI", "SISKOP2MI menggantikan SIAPkerja", "belum kami pastikan",
                           "Orientasi Pra Pemberangkatan (OPP)", "ID CPMI (identitas Calon Pekerja Migran Indonesia)",
                           "pakai daftar resmi di situs itu", "Jendela PMI) bisa tertinggal"],
    "darurat_luar_negeri": ["KBRI/KJRI", "+62 21 29244800", "+62 811-8080-141", "+62 812 9007 0027", "Safe Travel",
                            "peduliwni.kemlu.go.id", "+60 17-668 8032"],
    "pengaduan": ["0800-1000", "+62 811-8080-141", "110", "SAPA 129", "Lapor TPPO", "KBRI/KJRI", "+62 812 9007 0027",
                  "+62 21 29244800"],
    "meninggal": ["Jaminan Kematian (JKM)", "KBRI/KJRI", "0800-1000", "108 jenazah", "kewajiban perusahaan itu",
                  "PP 59/2021 Pasal 21 ayat (3)", "+62 21 29244800", "+62 811-8080-141", "+62 812 9007 0027",
                  "terakhir terkonfirmasi 2020", "menu 🗺️ Negara tujuan", "Syarat dokumennya belum kami pastikan"],
    "deportasi": ["151 PMI", "BP3MI NTT", "tidak dipidana", "UU 21/2007 Pasal 18", "+62 21 29244800",
                  "tidak bisa masuk Malaysia lagi selama lima tahun"],
    "gaji_tidak_dibayar": ["kerja paksa", "deposit jaminannya dapat dicairkan", "1955", "+62 811-8080-141"],
    "paspor_ditahan": ["tidak berhak menahan paspor Anda", "UU 21/2007 Pasal 1", "kerja paksa", "KBRI/KJRI", "+62 811-8080-141"],
    "remitansi": ["bank", "rekening Anda sendiri", "bukti kirim", "+62 811-8080-141"],
    "malaysia": ["tujuan utama", "Batam, Kalimantan Barat, dan Nunukan", "1.179", "+60105288040", "+60 17-668 8032",
                 "21 sampai 45 tahun", "Juli 2025", "masih berlaku"],
    "hongkong_taiwan_singapura": ["Taiwan dan Hong Kong", "+852 5242 2240", "1955", "+65 9295 3964",
                                  "23 sampai di bawah 50 tahun", "tanda bahaya", "masih berlaku",
                                  "KDEI Taipei belum terverifikasi", "+62 812 9007 0027"],
    "korea_jepang": ["salah satu jalur resmi", "G to G (antarpemerintah)", "BP2MI", "belum kami pastikan", "SSW",
                     "+62 21 29244800"],
    "ltsa_ntt": ["empat LTSA", "hanya LTSA Kota Kupang yang masih aktif", "belum kami pastikan",
                 "daftarlah di Disnaker kabupaten/kota", "Layanan Terpadu Satu Atap", "biasanya oleh Disnaker",
                 "Apakah LTSA lain sudah buka lagi"],
    "gugus_tugas": ["SK Gubernur NTT 135/KEP/HK/2024", "SI-SAGA", "0811-3910-910", "belum kami pastikan",
                    "sampai tingkat desa", "bila layanan ini sudah disambungkan"],
    "izin_keluarga": ["diketahui kepala desa/lurah", "sudah 18 tahun", "job order", "rekening pribadi",
                      "memberi uang kepada orang tua", "Singapura minimal 23 tahun", "Malaysia 21 sampai 45 tahun",
                      "umurnya dipalsukan", "UU 18/2017 Pasal 80", "atau Thailand",
                      "menteri pekerja migran pada 2025 menyatakan penempatan ke sana dilarang", "penampungan tanpa izin",
                      "Lapor TPPO", "129", "0800-1000", "visa turis atau kunjungan (bukan visa kerja)",
                      "Dari luar negeri: KP2MI +62 21 29244800", "+62 811-8080-141"],
    "abk": ["Awak kapal perikanan migran", "10 jenis pekerjaan", "perjanjian kerja", "+62 21 29244800"],
    "lembaga": ["KP2MI", "SIP3MI", "BP2MI", "BP3MI NTT", "Disnaker", "P3MI", "BNP2TKI", "Perpres 166/2024",
                "tidak dibubarkan"],
    "lowongan_resmi": ["siskop2mi.bp2mi.go.id", "SIP2MI", "Jendela PMI", "gratis", "akun media sosial pribadi",
                       "PP 59/2021 Pasal 4", "Layanan Terpadu Satu Atap", "+62 21 29244800"],
    "biaya_pulang": ["tiket pulang tidak boleh dibebankan", "Pasal 24", "kewajiban perusahaan itu",
                     "Permen P2MI 32/2025 Pasal 13", "+62 21 29244800", "dicekal lima tahun"],
    "daftar_disnaker": ["Gratis", "kartu kuning", "tidak dipungut biaya", "Pasal 30", "Permen P2MI 4/2025 Pasal 9",
                        "LTSA (Layanan Terpadu Satu Atap)", "WhatsApp pengaduan KP2MI +62 811-8080-141"],
    "sip2mi": ["Surat Izin Perekrutan", "menyebut negara tujuannya", "tidak bisa dipindahtangankan",
               "SIP3MI", "siskop2mi.bp2mi.go.id", "pastikan ke Disnaker", "dipinjam calo",
               "belum membuktikan bahwa pembawanya benar dari PT itu", "UU 18/2017 Pasal 69 dan Pasal 81"],
    "perpanjang_kontrak": ["di hadapan pejabat Perwakilan RI", "Pasal 17", "Pasal 25", "BPJS Ketenagakerjaan", "E-KPMI",
                           "+62 21 29244800"],
    "pindah_majikan": ["KBRI/KJRI", "ditahan", "(2021)", "tidak boleh pindah majikan", "UU 18/2017 Pasal 18",
                       "perdagangan orang", "Lapor TPPO", "UU 18/2017 Pasal 21", "+62 811-8080-141",
                       "+62 812 9007 0027"],
    "keluarga_ditinggal": ["diketahui kepala desa atau lurah", "Desa Migran Produktif", "SBPK", "+62 8111-129-129",
                           "0800-1000"],
    "timur_tengah": ["sejak 2015", "Kepmenaker 260/2015", "belum kami pastikan", "Visa ziarah", "+966569173990",
                     "belum kami pastikan masih aktif", "+62 21 29244800", "+62 812 9007 0027", "Qatar"],
    "brunei": ["tujuan resmi", "7 penempatan", "belum terverifikasi", "visa kunjungan", "+62 21 29244800"],
    "sabah": ["bagian dari Malaysia", "rute dan jadwal yang diatur", "KJRI Kota Kinabalu", "belum terverifikasi", "+62 21 29244800",
              "SBPK", "+62 21 29244800"],
}


def test_every_required_topic_exists():
    assert sorted(KEY_FACTS) == sorted(CONTENT.topics)


@pytest.mark.parametrize("topic_id", sorted(KEY_FACTS))
def test_the_answer_states_its_key_facts(topic_id):
    text = html_to_text(CONTENT.render_answer(topic_id))
    missing = [fact for fact in KEY_FACTS[topic_id] if fact not in text]
    assert not missing, f"{topic_id} lacks {missing}"
    assert len(CONTENT.render_answer(topic_id)) <= 3500
    assert "Dasar hukum" in text.splitlines()[-1] and "diperbarui" in text.splitlines()[-1]


def test_related_menu_entries_become_menu_buttons(fallback_app):
    turn = press(fallback_app, "faq:cek_perusahaan")
    assert ("🏢 Cek perusahaan", "menu:agency") in buttons_of(turn)


def test_an_outdated_term_in_an_answer_is_rejected(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    path = content / "faq" / "syarat.yml"
    assert "Usia <b>minimal 18 tahun</b>" in path.read_text()
    path.write_text(path.read_text().replace("Usia <b>minimal 18 tahun</b>", "Usia minimal 21 tahun, daftar ke BNP2TKI"))
    out = io.StringIO()
    assert check_content(content, tmp_path / "var", out) == 1
    assert "outdated term 'minimal 21 tahun'" in out.getvalue() and "outdated term 'BNP2TKI'" in out.getvalue()
    assert f"{path}:" in out.getvalue()


def test_no_answer_shows_a_number_in_domestic_form_to_readers_abroad():
    """What a reader abroad sees (topics for people abroad, and lines that name KBRI/KJRI or 'luar negeri')
    holds no number that starts with 0, the form that fails when dialled from another country."""
    for topic in CONTENT.topics.values():
        if topic.audience == "indonesia":
            continue
        for line in html_to_text(CONTENT.render_answer(topic.id)).splitlines():
            if "dari indonesia" in line.lower() or "di indonesia" in line.lower():
                continue
            assert not re.search(r"(?<![\w+])0\d{2,4}[- ]?\d{3,4}", line), (topic.id, line)

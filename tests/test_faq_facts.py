"""Each FAQ answer states the facts it must state (from the domain reference), as the user reads them."""
import io
import shutil

import pytest

from bot.content import Content
from bot.content_check import check_content
from bot.settings import PROJECT_ROOT
from bot.textformat import html_to_text
from tests.helpers import buttons_of, press

CONTENT = Content(PROJECT_ROOT / "content")

KEY_FACTS = {
    "syarat": ["minimal 18 tahun", "kompetensi", "Sehat jasmani dan rohani", "jaminan sosial", "Dokumen lengkap"],
    "dokumen": ["status perkawinan", "diketahui kepala desa atau lurah", "Sertifikat kompetensi", "psikologi",
                "Paspor", "Visa kerja", "Perjanjian Penempatan", "Perjanjian Kerja", "KTP, KK, akta kelahiran, ijazah"],
    "alur": ["Disnaker", "LTSA", "gratis", "seleksi", "kesehatan dan psikologi", "Perjanjian Penempatan",
             "jaminan sosial", "visa kerja", "Orientasi Pra Pemberangkatan (OPP)", "Perjanjian Kerja", "berangkat"],
    "biaya": ["tidak boleh dibebani biaya penempatan", "Pasal 30", "10 jenis pekerjaan", "awak kapal perikanan migran",
              "tiket berangkat dan pulang", "jasa perusahaan", "SKCK", "transport lokal", "Permen P2MI 17/2025",
              "belum kami pastikan"],
    "jalur_resmi": ["P3MI", "G to G", "EPS", "menempatkan pekerjanya sendiri", "berbadan hukum"],
    "cek_perusahaan": ["SIP3MI", "Kantor cabang yang terdaftar", "SIP2MI", "menyebut negara tujuannya",
                       "siskop2mi.bp2mi.go.id", "0800-1000"],
    "calo": ["10 tahun", "Rp15 miliar", "Pasal 81"],
    "tanda_penipuan": ["visa turis, ziarah, atau kunjungan", "rekening pribadi", "Paspor atau dokumen ditahan",
                       "Umur atau KTP dipalsukan", "Tidak ada perjanjian kerja", "penampungan", "Orang tua diberi uang",
                       "tanpa Orientasi Pra Pemberangkatan"],
    "tppo": ["Walaupun korban setuju", "3 sampai 15 tahun", "Rp120 juta sampai Rp600 juta", "tidak dipidana"],
    "negara_terlarang": ["Kamboja dan Myanmar BUKAN negara tujuan", "Thailand", "belum kami pastikan",
                         "Kepmenaker 260/2015", "sejak 2015", "Juli 2025"],
    "bpjs": ["JKK", "JKM", "JHT", "Pilihan (opsional)", "Rp37.500", "Rp108.000", "Rp189.000", "Rp332.500",
             "Rp13.500 per bulan", "belum kami pastikan"],
    "opp": ["wajib diikuti", "BP3MI", "mengelola uang", "E-PMI"],
    "pelatihan": ["sertifikat kompetensi", "BLK", "tidak boleh dibebankan"],
    "kesehatan": ["kesehatan dan psikologi", "surat keterangan sehat", "10 jenis pekerjaan"],
    "paspor": ["Anda sendiri yang memegangnya", "visa kerja", "kerja paksa"],
    "visa": ["VISA KERJA", "Visa turis", "tiket pulang"],
    "perjanjian_kerja": ["jam kerja, gaji dan cara pembayarannya", "lama perjanjian", "jaminan keamanan",
                         "simpan salinannya", "Pasal 15"],
    "hak_kewajiban": ["memegang sendiri paspor", "tidak dibebani biaya penempatan",
                      "melaporkan kedatangan, keberadaan, dan kepulangan"],
    "e_pmi": ["E-KPMI", "Permen P2MI 34/2025", "tetap berlaku", "dalam 1 tahun"],
    "pendaftaran_online": ["SIAPkerja", "Sisko P2MI", "SISKOP2MI menggantikan SIAPkerja", "belum kami pastikan"],
    "darurat_luar_negeri": ["KBRI/KJRI", "+62 21 29244800", "+62 812 9007 0027", "Safe Travel", "peduliwni.kemlu.go.id"],
    "pengaduan": ["0800-1000", "0811-8080-141", "110", "SAPA 129", "Lapor TPPO"],
    "meninggal": ["Jaminan Kematian (JKM)", "KBRI/KJRI", "0800-1000", "108 jenazah"],
    "deportasi": ["151 PMI", "BP3MI NTT", "tidak dipidana"],
    "gaji_tidak_dibayar": ["kerja paksa", "deposit jaminannya dapat dicairkan", "1955"],
    "paspor_ditahan": ["tidak berhak menahannya", "kerja paksa", "KBRI/KJRI"],
    "remitansi": ["bank", "rekening Anda sendiri", "bukti kirim"],
    "malaysia": ["tujuan utama", "Batam, Kalimantan Barat, dan Nunukan", "1.179", "+60105288040"],
    "hongkong_taiwan_singapura": ["Taiwan dan Hong Kong", "+852 5242 2240", "1955", "+65 9295 3964"],
    "korea_jepang": ["G to G (EPS)", "BP2MI", "SSW"],
    "ltsa_ntt": ["empat LTSA", "hanya LTSA Kota Kupang yang masih aktif", "belum kami pastikan"],
    "gugus_tugas": ["SK Gubernur NTT 135/KEP/HK/2024", "SI-SAGA", "0811-3910-910", "belum kami pastikan",
                    "sampai tingkat desa"],
    "izin_keluarga": ["diketahui kepala desa atau lurah", "sudah 18 tahun", "job order", "rekening pribadi",
                      "memberi uang kepada orang tua"],
    "abk": ["Awak kapal perikanan migran", "10 jenis pekerjaan", "perjanjian kerja"],
    "lembaga": ["KP2MI", "SIP3MI", "BP2MI", "BP3MI NTT", "Disnaker", "P3MI", "BNP2TKI"],
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
    path.write_text(path.read_text().replace("Usia <b>minimal 18 tahun</b>", "Usia minimal 21 tahun, daftar ke BNP2TKI"))
    out = io.StringIO()
    assert check_content(content, tmp_path / "var", out) == 1
    assert "outdated term 'minimal 21 tahun'" in out.getvalue() and "outdated term 'BNP2TKI'" in out.getvalue()
    assert f"{path}:" in out.getvalue()

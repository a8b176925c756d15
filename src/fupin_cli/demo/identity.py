"""Synthetic identities for the demo: names, ID numbers, credit codes, accounts, workshop names.

Everything is drawn from a numpy Generator passed in, so a seed fixes every value.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from fupin_cli.values.ids import id_check_digit

# Common surnames in 百色 (Zhuang, Han, Yao families), roughly by frequency.
SURNAMES = list("黄韦农陆梁罗李何杨覃潘莫蓝王陈林凌赵苏岑卢闭廖周谭马班劳滕邓")
_SURNAME_P = np.linspace(3.0, 0.6, len(SURNAMES))
_SURNAME_P /= _SURNAME_P.sum()
MALE = list("伟强军勇明华建国文平福贵荣生海志忠林成德光金春永新宏杰斌刚辉祥富才兴")
FEMALE = list("丽芳梅英秀兰娟艳玲红霞燕萍琴桂凤美春金花莲珍云妹娥月翠菊玉")

VILLAGE_1 = list("那百龙巴德坡弄陇念定平岜伏六古江新福和东")
VILLAGE_2 = list("豆坡林合安塘洪立明峨仁凡桑马兰旺良美荣平")

PRODUCTS = ["服装加工", "电子元件组装", "手袋加工", "藤编", "竹编工艺品", "假发加工", "芒果分拣包装", "蔬菜分拣",
            "毛绒玩具", "刺绣", "鞋材加工", "茶叶加工", "香菇种植", "灯饰组装", "中药材加工", "桑蚕养殖",
            "服饰辅料", "竹木制品", "农产品加工", "编织"]
BRANDS = ["鑫达", "宏源", "华美", "富民", "兴旺", "金穗", "绿源", "民丰", "长盛", "恒通", "佳和", "聚贤", "润丰", "壮乡",
          "百利", "祥瑞"]
INDUSTRY = {"电子": "电子科技", "服": "服饰", "鞋": "鞋业", "芒果": "农业科技", "蔬菜": "农业科技", "茶": "茶业",
            "香菇": "农业开发", "中药": "药业", "桑": "农业开发"}
BANKS = ["中国农业银行{c}支行", "广西{c}农村商业银行", "中国邮政储蓄银行{c}支行", "{c}农村信用合作联社", "中国工商银行{c}支行"]
OPERATOR_TYPES = ["企业", "个体工商户", "农民专业合作社"]


def person_name(rng: np.random.Generator, male: bool) -> str:
    pool = MALE if male else FEMALE
    n = 1 if rng.random() < 0.25 else 2
    return SURNAMES[rng.choice(len(SURNAMES), p=_SURNAME_P)] + "".join(pool[i] for i in rng.integers(0, len(pool), n))


class IdFactory:
    """Unique 18-digit ID numbers (GB 11643-1999) with Baise 区划代码; the check digit is computed."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def new(self, rng: np.random.Generator, region_code: str, *, born_from: int = 1960,
            born_to: int = 1998) -> tuple[str, bool]:
        """(id_number, male)."""
        while True:
            year = int(rng.integers(born_from, born_to + 1))
            born = date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            seq = int(rng.integers(1, 1000))
            first17 = f"{region_code}{born:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self.used:
                self.used.add(number)
                return number, seq % 2 == 1


def old_id(number: str) -> str:
    """The 15-digit number of before 1999 that `number` was converted from (drop "19" and the check)."""
    return number[:6] + number[8:17]


def bad_check(number: str) -> str:
    """The same number with a wrong check character (a typing slip)."""
    right = number[17]
    wrong = "0123456789X"[("0123456789X".index(right) + 3) % 11]
    return number[:17] + wrong


# GB 32100-2015: 31 characters (no I O Z S V), weights of the first 17 positions.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# GB 11714-1997: the organisation code embedded at positions 9–17 has its own check character.
_ORG_W = [3, 7, 9, 10, 5, 8, 4, 2]


def credit_code(rng: np.random.Generator, county_code: str, operator_type: str) -> str:
    # Registration authority 9 (工商) with category 1 企业 / 2 个体工商户 / 3 农民专业合作社.
    prefix = {"企业": "91", "个体工商户": "92", "农民专业合作社": "93"}[operator_type]
    body = "".join(str(d) for d in rng.integers(0, 10, 8))
    c9 = 11 - sum(int(ch) * w for ch, w in zip(body, _ORG_W, strict=True)) % 11
    org = body + {10: "X", 11: "0"}.get(c9, str(c9))
    first17 = prefix + county_code + org
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_W, strict=True))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def bad_credit_check(code: str) -> str:
    return code[:17] + _USCC_CHARS[(_USCC_CHARS.index(code[17]) + 5) % 31]


def bank(rng: np.random.Generator, county_short: str) -> tuple[str, str]:
    name = BANKS[int(rng.integers(0, len(BANKS)))].format(c=county_short)
    account = "".join(str(d) for d in rng.integers(0, 10, 19))
    return name, "6" + account[1:]


def village(rng: np.random.Generator) -> str:
    return VILLAGE_1[int(rng.integers(0, len(VILLAGE_1)))] + VILLAGE_2[int(rng.integers(0, len(VILLAGE_2)))] + "村"


def operator_name(rng: np.random.Generator, operator_type: str, county: str, township: str, village_name: str,
                  product: str) -> str:
    if operator_type == "企业":
        industry = next((v for k, v in INDUSTRY.items() if k in product), "实业")
        return f"{county_short(county)}{BRANDS[int(rng.integers(0, len(BRANDS)))]}{industry}有限公司"
    if operator_type == "个体工商户":
        return f"{county}{township}{person_name(rng, bool(rng.integers(0, 2)))}{product}厂"
    return f"{county}{village_name}{product}专业合作社"


def county_short(county: str) -> str:
    """田阳县 → 田阳, 隆林各族自治县 → 隆林 (as banks and companies name themselves)."""
    for suffix in ("各族自治县", "县", "区", "市"):
        if county.endswith(suffix):
            return county[: -len(suffix)]
    return county

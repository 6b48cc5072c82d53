"""A cadre's kinship to a household (`household relative`): a closed list, as the rules of recusal
(回避: 夫妻关系、直系血亲、三代以内旁系血亲及近姻亲) name them, kept as a code and shown in the reader's
language (labels `kin.<code>` in the catalogue).

What a cadre may write for each code: the code, its Chinese label (KIN), or any word of KIN_WORDS —
the kinship terms cadres use (外甥女, 舅舅, 嫂子) and their English words. A word none of them names
is refused with the list, never guessed. Relations recorded before this list (stored as typed) are
shown by the code their word names (`kin_code`), as typed when it names none."""
from __future__ import annotations

from functools import lru_cache

from engine.domain.evidence import compared, read_code

KIN = {   # code: its Chinese label (the catalogue's kin.<code>, zh)
    "spouse": "配偶", "father": "父亲", "mother": "母亲", "son": "儿子", "daughter": "女儿",
    "brother": "兄弟", "sister": "姐妹", "grandfather": "祖父或外祖父", "grandmother": "祖母或外祖母",
    "grandson": "孙子或外孙", "granddaughter": "孙女或外孙女", "uncle": "伯父、叔父、舅父、姑父或姨父",
    "aunt": "姑母、姨母、伯母、婶母或舅母", "nephew": "侄子或外甥", "niece": "侄女或外甥女",
    "cousin": "堂表兄弟姐妹", "father_in_law": "公公或岳父", "mother_in_law": "婆婆或岳母",
    "son_in_law": "女婿", "daughter_in_law": "儿媳", "brother_in_law": "姐夫、妹夫、大伯子、小叔子或内兄弟",
    "sister_in_law": "嫂子、弟媳、大姑子、小姑子或姨姐妹", "other": "其他亲属",
}

KIN_WORDS = {   # code: the words for it besides the code and its Chinese label; English ones in lower case
    "spouse": ("丈夫", "妻子", "夫", "妻", "爱人", "老公", "老婆", "夫妻", "husband", "wife"),
    "father": ("父", "爸爸", "父亲", "dad"),
    "mother": ("母", "妈妈", "母亲", "mum", "mom"),
    "son": ("子", "之子", "儿子", "儿"),
    "daughter": ("女", "之女", "女儿"),
    "brother": ("哥哥", "弟弟", "兄", "弟", "兄长"),
    "sister": ("姐姐", "妹妹", "姐", "妹"),
    "grandfather": ("祖父", "外祖父", "爷爷", "外公", "姥爷", "grandpa"),
    "grandmother": ("祖母", "外祖母", "奶奶", "外婆", "姥姥", "grandma"),
    "grandson": ("孙子", "外孙", "外孙子"),
    "granddaughter": ("孙女", "外孙女"),
    "uncle": ("伯父", "伯伯", "叔父", "叔叔", "舅父", "舅舅", "姑父", "姨父"),
    "aunt": ("姑母", "姑姑", "姑妈", "姨母", "姨妈", "伯母", "婶母", "婶婶", "婶子", "舅母", "舅妈", "auntie"),
    "nephew": ("侄子", "侄儿", "外甥"),
    "niece": ("侄女", "外甥女"),
    "cousin": ("堂兄", "堂弟", "堂姐", "堂妹", "表兄", "表哥", "表弟", "表姐", "表妹", "堂兄弟", "堂姐妹", "表兄弟",
               "表姐妹", "堂兄弟姐妹", "表兄弟姐妹"),
    "father_in_law": ("公公", "岳父", "老丈人", "father-in-law"),
    "mother_in_law": ("婆婆", "岳母", "丈母娘", "mother-in-law"),
    "son_in_law": ("女婿", "之女婿", "son-in-law"),
    "daughter_in_law": ("儿媳", "儿媳妇", "之儿媳", "daughter-in-law"),
    "brother_in_law": ("姐夫", "妹夫", "大伯子", "小叔子", "内兄", "内弟", "大舅子", "小舅子", "连襟", "brother-in-law"),
    "sister_in_law": ("嫂子", "嫂嫂", "弟媳", "弟妹", "大姑子", "小姑子", "大姨子", "小姨子", "妯娌",
                      "sister-in-law"),
    "other": ("其他", "亲属", "亲戚", "其他亲戚", "relative", "otherrelative"),
}


@lru_cache(maxsize=1)
def _words() -> dict[str, str]:
    words = {compared(word): code for code, said in KIN_WORDS.items() for word in said}
    words.update({compared(label): code for code, label in KIN.items()})
    words.update({compared(code): code for code in KIN})
    return words


def kin_code(value: object) -> str | None:
    """The kinship code `value` names (a code, a label, a word of KIN_WORDS; a note in brackets after
    it is read past: 外甥女（姐姐之女）), or None."""
    return read_code(value, _words()) if isinstance(value, str) and value.strip() else None


def kin_shown(value: object) -> object:
    """A relation as recorded, to show: its code when its word names one (a relation recorded before
    the list, as typed), else as recorded."""
    return kin_code(value) or value


def kin_said(config, value: object, lang: str = "zh") -> object:
    """A relation as recorded, in the reader's words (`config.label` of its kinship), or as recorded
    when it names none."""
    code = kin_shown(value)
    return config.label(f"kin.{code}", lang) if code in KIN else code

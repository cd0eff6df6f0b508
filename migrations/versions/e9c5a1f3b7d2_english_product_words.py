"""Common English words for products: corn for 玉米, chili for 辣椒, pig for 生猪, pak choi for 青菜 …

The English synonyms mailbox/data/products.csv now ships, added to an installation's taxonomy,
with a few local names that were read as another product (鸡毛菜 as 鸡, 牛奶 as 牛, 羊角椒 as 羊).
A new database has them already (the taxonomy migration f3a9c1e7b5d2 reads the CSV as it is
now), so only the missing ones are added; a word that already names any product, in any
case, or a category is left alone (an administrator may have given it to this product or
to another). The list is written out here, not read from the CSV, so this step means the
same whatever the CSV says later. Every product that gets words has an audit entry, as for
an administrator's change: that is how the downgrade removes exactly what was added.

Revision ID: e9c5a1f3b7d2
Revises: d5b3e9a7c2f4
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e9c5a1f3b7d2'
down_revision = 'd5b3e9a7c2f4'
branch_labels = None
depends_on = None

UPGRADE = f'数据库升级 {revision}：常用英文名 (upgrade: common English names)'
DOWNGRADE = f'数据库降级 {revision} (downgrade)'

WORDS = {  # product code: English words (lower case) and local names
    "010101": ("paddy", "rough rice", "unhusked rice"),  # 稻谷
    "0101019001": ("white rice", "milled rice", "polished rice"),  # 大米
    "0101019002": ("sticky rice",),  # 糯米
    "0101029001": ("flour",),  # 面粉
    "010103": ("corn", "field corn"),  # 玉米
    "0101039002": ("sticky corn", "glutinous corn"),  # 糯玉米
    "0101039003": ("corn stover", "corn stalks"),  # 玉米秸秆
    "0101039004": ("corn silage", "silage corn"),  # 青贮玉米
    "0101049004": ("manioc",),  # 木薯
    "0101059001": ("millet",),  # 小米
    "0101059005": ("oat",),  # 燕麦
    "0101069001": ("mungbean", "green gram"),  # 绿豆
    "0101069002": ("azuki bean", "adzuki", "red bean"),  # 红豆
    "010201": ("soya", "soy", "soya bean", "soy bean", "soyabean"),  # 大豆
    "010202": ("canola", "rape seed"),  # 油菜籽
    "0102029001": ("canola oil",),  # 菜籽油
    "010203": ("groundnut",),  # 花生
    "010205": ("sunflower",),  # 葵花籽
    "0103019002": ("asian pear",),  # 梨
    "0103029008": ("bayberry", "red bayberry", "waxberry"),  # 杨梅
    "0103029010": ("winter jujube",),  # 鲜枣
    "0103029011": ("red date", "chinese red date"),  # 红枣
    "0103039003": ("kiwi", "kiwi fruit"),  # 猕猴桃
    "0103049001": ("mandarin", "tangerine", "satsuma"),  # 橘子
    "0103049007": ("navel orange", "sweet orange"),  # 橙子
    "0103049008": ("pummelo", "shaddock"),  # 柚子
    "0103069001": ("litchi", "lichee"),  # 荔枝
    "0103079002": ("hickory nut",),  # 山核桃
    "0103079003": ("chestnut",),  # 板栗
    "0103079005": ("ginkgo",),  # 银杏
    "0103099001": ("water melon",),  # 西瓜
    "0103099002": ("muskmelon", "oriental melon"),  # 甜瓜
    "0103119002": ("dragon fruit", "dragonfruit"),  # 火龙果
    "0103119004": ("carambola", "starfruit"),  # 杨桃
    "0104019001": ("daikon", "white radish", "chinese radish"),  # 萝卜
    "0104029001": ("chinese cabbage", "nappa cabbage", "napa", "celery cabbage"),  # 大白菜
    "0104029002": ("鸡毛菜", "奶白菜", "pak choi", "pak choy", "bok choi", "pok choi"),  # 青菜
    "0104029003": ("choi sum",),  # 菜心
    "0104039001": ("牛心菜", "尖头包菜", "white cabbage", "green cabbage"),  # 包菜
    "0104039004": ("gai lan", "kai lan", "chinese broccoli"),  # 芥蓝
    "0104049001": ("mustard green", "leaf mustard"),  # 芥菜
    "0104059003": ("aubergine", "brinjal"),  # 茄子
    "0104059004": ("羊角椒", "chili", "chilli", "chile", "hot pepper", "chilli pepper", "chile pepper"),  # 辣椒
    "0104059005": ("sweet pepper", "capsicum", "green pepper"),  # 甜椒
    "0104069001": ("long bean", "asparagus bean", "snake bean"),  # 豇豆
    "0104069002": ("french bean", "string bean", "snap bean"),  # 四季豆
    "0104069003": ("green soybean", "vegetable soybean"),  # 毛豆
    "0104069004": ("fava bean", "faba bean"),  # 蚕豆
    "0104069005": ("green pea", "garden pea"),  # 豌豆
    "0104069006": ("sugar snap pea", "mangetout"),  # 荷兰豆
    "0104079003": ("winter melon", "ash gourd", "white gourd"),  # 冬瓜
    "0104079004": ("loofah", "sponge gourd"),  # 丝瓜
    "0104079005": ("bitter gourd",),  # 苦瓜
    "0104079006": ("courgette",),  # 西葫芦
    "0104079007": ("calabash",),  # 瓠瓜
    "0104089002": ("green garlic",),  # 蒜苗
    "0104089005": ("spring onion", "green onion"),  # 小葱
    "0104089007": ("garlic chives", "chinese leek"),  # 韭菜
    "0104099004": ("celtuce", "asparagus lettuce"),  # 莴笋
    "0104099006": ("kangkong", "ong choy"),  # 空心菜
    "0104099007": ("amaranth",),  # 苋菜
    "0104099008": ("crown daisy", "chrysanthemum greens"),  # 茼蒿
    "0104099009": ("cilantro", "chinese parsley"),  # 香菜
    "0104119002": ("wild rice stem",),  # 茭白
    "0106019001": ("shiitake mushroom", "shitake", "shitake mushroom"),  # 香菇
    "0106019004": ("enoki mushroom", "enokitake", "golden needle mushroom"),  # 金针菇
    "0106019005": ("king oyster", "eryngii", "king trumpet mushroom"),  # 杏鲍菇
    "0106019006": ("white button mushroom", "white mushroom", "champignon"),  # 双孢菇
    "0106019008": ("tea tree mushroom",),  # 茶树菇
    "0106019010": ("shimeji",),  # 海鲜菇
    "0106019014": ("boletus",),  # 牛肝菌
    "0106029001": ("black fungus", "wood ear mushroom", "cloud ear fungus"),  # 黑木耳
    "0106029002": ("snow fungus", "tremella", "silver ear"),  # 银耳
    "0106039001": ("ganoderma",),  # 灵芝
    "0106039002": ("lion's mane mushroom", "lions mane", "monkey head mushroom"),  # 猴头菇
    "0106039003": ("hen of the woods",),  # 灰树花
    "0106049001": ("cordyceps",),  # 冬虫夏草
    "0106069002": ("morel mushroom",),  # 羊肚菌
    "0107019004": ("dragon well", "dragon well tea"),  # 龙井
    "0107019012": ("oolong",),  # 乌龙茶
    "0107019013": ("pu-erh", "puer", "pu erh", "pu-erh tea"),  # 普洱茶
    "0107049001": ("chrysanthemum tea",),  # 杭白菊
    "010802": ("sugar cane",),  # 甘蔗
    "019015": ("honeysuckle",),  # 金银花
    "019016": ("goji", "wolfberry"),  # 枸杞
    "019017": ("astragalus",),  # 黄芪
    "01910101": ("osmanthus", "osmanthus tree"),  # 桂花
    "01920102": ("corn seed", "seed corn"),  # 玉米种子
    "01920201": ("rice seedling",),  # 秧苗
    "01920202": ("vegetable seedling",),  # 菜苗
    "019302": ("lucerne",),  # 苜蓿
    "02019001": ("pig", "hog", "live pig", "fattening pig", "swine", "porker"),  # 生猪
    "02019005": ("cow", "beef cattle", "bull", "oxen", "live cattle"),  # 牛
    "02019006": ("buffalo",),  # 水牛
    "02019007": ("milk cow", "dairy cattle"),  # 奶牛
    "02019008": ("calves",),  # 牛犊
    "02019103": ("lamb meat", "goat meat"),  # 羊肉
    "02029001": ("rooster",),  # 鸡
    "02029002": ("broiler chicken", "meat chicken"),  # 肉鸡
    "02029003": ("hen", "layer hen", "layer", "spent hen", "old hen"),  # 蛋鸡
    "02029005": ("geese",),  # 鹅
    "02029006": ("squab",),  # 鸽子
    "02029008": ("chick", "day-old chick", "baby chick"),  # 鸡苗
    "02029009": ("duckling",),  # 鸭苗
    "02029010": ("gosling",),  # 鹅苗
    "02029202": ("free range egg",),  # 土鸡蛋
    "02029205": ("preserved egg", "thousand-year egg"),  # 皮蛋
    "02039001": ("cocoon", "silk cocoon"),  # 蚕茧
    "0301029005": ("carp",),  # 鲤鱼
    "0301029006": ("crucian",),  # 鲫鱼
    "0301029009": ("chinese perch",),  # 鳜鱼
    "0301029014": ("eel",),  # 鳗鱼
    "0301029015": ("swamp eel", "paddy eel"),  # 黄鳝
    "0302019001": ("南美白虾", "white shrimp", "vannamei", "pacific white shrimp"),  # 南美白对虾
    "0302029001": ("crawfish", "crawdad"),  # 小龙虾
    "0303029001": ("hairy crab", "mitten crab"),  # 大闸蟹
    "0307029001": ("softshell turtle", "soft shell turtle"),  # 甲鱼
    "039001": ("fingerling", "fish fingerling", "fish seed"),  # 鱼苗
    "900102": ("compound fertiliser", "npk", "npk fertilizer", "npk fertiliser"),  # 复合肥
    "900104": ("phosphate fertilizer", "phosphate fertiliser"),  # 过磷酸钙
    "900105": ("potash", "muriate of potash"),  # 氯化钾
    "900107": ("dap",),  # 磷酸二铵
    "900108": ("foliar fertiliser", "foliar feed"),  # 叶面肥
    "900109": ("water soluble fertilizer", "water-soluble fertiliser", "water soluble fertiliser"),  # 水溶肥
    "900201": ("weedkiller", "weed killer", "glyphosate"),  # 除草剂
    "900206": ("rat poison",),  # 杀鼠剂
    "900401": ("hog feed", "swine feed"),  # 猪饲料
    "900402": ("chicken feed",),  # 鸡饲料
    "900701": ("organic fertiliser",),  # 有机肥
    "900702": ("manure", "animal manure", "chicken manure"),  # 农家肥
    "910102": ("hand tractor", "two-wheel tractor", "two wheel tractor"),  # 手扶拖拉机
    "910103": ("tricycle",),  # 农用三轮车
    "910201": ("rotavator", "rototiller"),  # 旋耕机
    "910301": ("transplanter",),  # 插秧机
    "910302": ("seed drill",),  # 播种机
    "910401": ("drone", "spray drone", "agricultural drone"),  # 植保无人机
    "910402": ("knapsack sprayer",),  # 喷雾器
    "910501": ("combine", "harvester"),  # 收割机
    "910502": ("maize harvester",),  # 玉米收获机
    "910503": ("lawn mower", "brush cutter", "grass cutter"),  # 割草机
    "910701": ("dryer", "grain drier"),  # 烘干机
    "910703": ("threshing machine",),  # 脱粒机
    "910801": ("aerator",),  # 增氧机
    "02019201": ("牛奶",),  # 生鲜乳 (local names like this one were read as another product: 牛)
}

PRODUCTS = sa.table('products', sa.column('id', sa.Integer), sa.column('code', sa.String),
                    sa.column('name_en', sa.String), sa.column('pinyin', sa.String), sa.column('unit', sa.String),
                    sa.column('merged_into_id', sa.Integer))
WORDS_TABLE = sa.table('product_words', sa.column('id', sa.Integer), sa.column('product_id', sa.Integer),
                       sa.column('word', sa.String), sa.column('kind', sa.String))
CATEGORIES = sa.table('product_categories', sa.column('name_zh', sa.String), sa.column('name_en', sa.String),
                      sa.column('synonyms', sa.String))
AUDIT = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', sa.DateTime),
                 sa.column('actor_id', sa.Integer), sa.column('action', sa.String),
                 sa.column('target_type', sa.String), sa.column('target_id', sa.Integer),
                 sa.column('channel', sa.String), sa.column('details', sa.JSON))


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(PRODUCTS.c.id, PRODUCTS.c.code, PRODUCTS.c.merged_into_id)).all()
    ids = {code: product_id for product_id, code, _merged in rows}
    merged_into = {product_id: merged for product_id, _code, merged in rows if merged}
    taken = _taken(bind)
    added: dict[int, list[str]] = {}
    for code, words in WORDS.items():
        product_id = ids.get(code)  # None: not in this installation's taxonomy
        while product_id in merged_into:  # its words went with it when it was merged
            product_id = merged_into[product_id]
        for word in words if product_id is not None else ():
            if word not in taken:
                added.setdefault(product_id, []).append(word)
                taken[word] = product_id
    for product_id, words in added.items():
        before = _synonyms(bind, product_id)
        bind.execute(WORDS_TABLE.insert(), [{'product_id': product_id, 'word': word, 'kind': 'synonym'}
                                            for word in words])
        _audit(bind, 'product.synonyms_add', product_id, UPGRADE, before, _synonyms(bind, product_id))


def downgrade():
    """Remove the words the last upgrade added (its audit entries say which), nothing else."""
    bind = op.get_bind()
    entries = bind.execute(sa.select(AUDIT.c.id, AUDIT.c.target_id, AUDIT.c.details).where(
        AUDIT.c.channel == 'system', AUDIT.c.target_type == 'products',
        AUDIT.c.action.in_(('product.synonyms_add', 'product.synonym_remove'))).order_by(AUDIT.c.id)).all()
    ours = [(target, details) for _id, target, details in entries
            if (details or {}).get('reason') in (UPGRADE, DOWNGRADE)]
    last_down = max((n for n, (_t, details) in enumerate(ours) if details['reason'] == DOWNGRADE), default=-1)
    for product_id, details in ours[last_down + 1:]:
        words = set(details['after'].get('synonyms', [])) - set(details['before'].get('synonyms', []))
        before = _synonyms(bind, product_id)
        bind.execute(WORDS_TABLE.delete().where(WORDS_TABLE.c.product_id == product_id,
                                                WORDS_TABLE.c.kind == 'synonym', WORDS_TABLE.c.word.in_(words)))
        after = _synonyms(bind, product_id)
        if after != before:
            _audit(bind, 'product.synonym_remove', product_id, DOWNGRADE, before, after)


def _taken(bind) -> dict[str, int | None]:
    """Every word (lower case) that names something already: its product, or None for a category."""
    taken: dict[str, int | None] = {}
    for product_id, word in bind.execute(sa.select(WORDS_TABLE.c.product_id, WORDS_TABLE.c.word)):
        taken.setdefault(word.lower(), product_id)
    for product_id, english, pinyin in bind.execute(
            sa.select(PRODUCTS.c.id, PRODUCTS.c.name_en, PRODUCTS.c.pinyin).where(PRODUCTS.c.unit != '')):
        for word in (english.lower(), pinyin):
            taken.setdefault(word, product_id)
    for name_zh, english, synonyms in bind.execute(sa.select(CATEGORIES)):
        for word in (name_zh, english.lower(), *filter(None, synonyms.split(';'))):
            taken[word.lower()] = None
    return taken


def _synonyms(bind, product_id: int) -> list[str]:
    """As the taxonomy's audit entries show them: every word but the name, oldest first."""
    return list(bind.execute(sa.select(WORDS_TABLE.c.word).where(
        WORDS_TABLE.c.product_id == product_id, WORDS_TABLE.c.kind != 'name').order_by(WORDS_TABLE.c.id)).scalars())


def _audit(bind, action: str, product_id: int, reason: str, before: list[str], after: list[str]) -> None:
    from ruralinfo.timeutil import now_utc

    bind.execute(AUDIT.insert().values(
        at=now_utc(), actor_id=None, action=action, target_type='products', target_id=product_id,
        channel='system', details={'reason': reason, 'before': {'synonyms': before}, 'after': {'synonyms': after}}))

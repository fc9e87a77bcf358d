"""How evaders rewrite a violation: full-width digits, spaced or split characters, traditional script, spoken digits."""

from __future__ import annotations

import random

_FULLWIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
)

# Pairs written out by hand (simplified, traditional) for the characters our
# templates use; a character without an entry is the same in both scripts.
_TRADITIONAL_PAIRS = (
    "万萬 与與 专專 业業 东東 丝絲 两兩 严嚴 个個 丰豐 临臨 为為 丽麗 举舉 么麼 义義 乐樂 习習 书書 买買 乱亂 "
    "争爭 亏虧 产產 亩畝 亲親 亿億 仅僅 从從 仓倉 们們 价價 众眾 优優 会會 传傳 伤傷 伦倫 体體 佣傭 侧側 "
    "俭儉 债債 倾傾 假假 偿償 储儲 儿兒 党黨 兰蘭 关關 兴興 养養 兽獸 内內 册冊 写寫 军軍 农農 冲衝 决決 "
    "况況 冻凍 净淨 减減 凤鳳 处處 击擊 刘劉 则則 刚剛 创創 删刪 别別 刹剎 剂劑 剑劍 办辦 务務 动動 劳勞 "
    "势勢 勋勳 区區 医醫 华華 协協 单單 卖賣 卢盧 卫衛 却卻 厂廠 厅廳 历歷 压壓 厌厭 县縣 参參 双雙 发發 "
    "变變 叙敘 号號 叹嘆 后後 吗嗎 启啟 员員 呜嗚 咨咨 响響 问問 团團 园園 围圍 国國 图圖 圆圓 圣聖 场場 "
    "坏壞 块塊 坚堅 坛壇 垒壘 备備 够夠 头頭 夹夾 夺奪 奋奮 奖獎 妆妝 妇婦 妈媽 娱娛 学學 宁寧 宝寶 "
    "实實 宠寵 审審 宪憲 宽寬 宾賓 对對 寻尋 导導 将將 尔爾 尘塵 尝嘗 层層 属屬 岁歲 岗崗 岛島 峡峽 币幣 "
    "师師 帐帳 带帶 帮幫 广廣 庄莊 库庫 应應 废廢 开開 异異 张張 弹彈 强強 归歸 当當 录錄 彻徹 径徑 "
    "忆憶 忧憂 怀懷 态態 总總 恋戀 恶惡 惊驚 惯慣 愿願 戏戲 战戰 户戶 扑撲 执執 扩擴 扫掃 扬揚 扰擾 "
    "抚撫 抢搶 护護 报報 担擔 拟擬 拥擁 择擇 挂掛 挡擋 挤擠 挥揮 损損 换換 据據 掷擲 携攜 摄攝 摆擺 撑撐 "
    "击擊 数數 斋齋 断斷 无無 旧舊 时時 旷曠 显顯 晋晉 晒曬 暂暫 术術 机機 杀殺 杂雜 权權 条條 来來 杨楊 "
    "极極 构構 枪槍 柜櫃 标標 栏欄 树樹 样樣 档檔 桥橋 检檢 楼樓 横橫 欢歡 欧歐 步步 残殘 毕畢 气氣 汇匯 "
    "汉漢 汤湯 沟溝 没沒 泽澤 洁潔 浅淺 测測 济濟 浏瀏 浓濃 涂塗 润潤 涨漲 渐漸 温溫 湾灣 满滿 滚滾 滞滯 "
    "灵靈 灯燈 点點 炼煉 热熱 焕煥 爱愛 爷爺 状狀 犹猶 独獨 猎獵 玛瑪 环環 现現 电電 画畫 畅暢 疗療 疮瘡 "
    "发發 皱皺 盖蓋 监監 盘盤 眼眼 着著 矿礦 码碼 础礎 确確 离離 种種 积積 称稱 税稅 稳穩 穷窮 竞競 笔筆 "
    "简簡 签簽 筹籌 类類 粮糧 纪紀 约約 级級 纯純 纲綱 纳納 纸紙 线線 练練 组組 细細 织織 终終 经經 结結 "
    "绕繞 绘繪 给給 络絡 统統 绩績 续續 维維 综綜 绿綠 编編 缴繳 缺缺 罗羅 罚罰 职職 联聯 聘聘 肃肅 肤膚 "
    "胁脅 脑腦 脚腳 脱脫 艺藝 节節 荐薦 药藥 获獲 营營 萝蘿 虑慮 虾蝦 虽雖 补補 装裝 见見 观觀 规規 "
    "视視 览覽 觉覺 触觸 计計 订訂 认認 讨討 让讓 训訓 议議 记記 讲講 许許 论論 设設 访訪 证證 评評 识識 "
    "诈詐 诉訴 词詞 译譯 试試 诚誠 话話 该該 详詳 语語 误誤 说說 请請 诸諸 读讀 课課 调調 谈談 谢謝 谨謹 "
    "贝貝 负負 贡貢 财財 责責 败敗 货貨 质質 购購 贯貫 费費 资資 赏賞 赔賠 赚賺 赛賽 赞贊 赶趕 趋趨 跃躍 "
    "践踐 车車 转轉 轮輪 软軟 轻輕 载載 较較 辅輔 辆輛 辑輯 输輸 边邊 达達 过過 运運 还還 这這 进進 远遠 "
    "违違 连連 迟遲 适適 选選 递遞 逻邏 遗遺 邮郵 邻鄰 郑鄭 酱醬 释釋 鉴鑒 针針 钓釣 钟鐘 钢鋼 钱錢 "
    "铁鐵 银銀 销銷 锁鎖 错錯 锻鍛 长長 门門 闭閉 问問 闲閒 间間 闻聞 队隊 阳陽 阶階 际際 陆陸 陈陳 险險 "
    "随隨 隐隱 难難 雇僱 雳靂 静靜 面面 韩韓 页頁 项項 顺順 须須 顾顧 顿頓 预預 领領 频頻 题題 颜顏 额額 "
    "风風 飞飛 饭飯 饮飲 馆館 驾駕 验驗 骗騙 鱼魚 鸡雞 麦麥 黄黃 齐齊 龄齡 龙龍 聪聰 轨軌 宫宮 咸鹹 缅緬 "
    "寨寨 挝撾 迪迪 拜拜 宾賓 机機 票票 护護 照照 办辦 签簽 满滿 闪閃 网網 页頁 单單 兼兼 刷刷 垫墊 "
    "返返 佣傭 拉拉 线線 团團 队隊 奖獎 励勵 层層 级級 简簡 历歷 孕孕 婚婚 育育 残殘 疾疾 肝肝 携攜 带帶 "
    "贸貿 驶駛 纺紡 镇鎮 鲜鮮 厨廚 饰飾 铺鋪 烧燒 滨濱 钻鑽 剂劑 闸閘 捞撈 诱誘 惩懲 "
    "宗宗 教教 族族 户戶 籍籍 貌貌 身身 高高 体體 重重 岁歲 龄齡 仅僅 限限 优優 先先 扰擾 勿勿 须須 应應"
)
_TRADITIONAL = str.maketrans({pair[0]: pair[1] for pair in _TRADITIONAL_PAIRS.split() if len(pair) == 2})

# Spoken forms of digits that evaders use so a phone number is not a digit run.
_SPOKEN_DIGITS = {
    "0": ("洞", "零", "〇"),
    "1": ("幺", "一", "幺"),
    "2": ("两", "二"),
    "3": ("三",),
    "4": ("四",),
    "5": ("五",),
    "6": ("六",),
    "7": ("拐", "七"),
    "8": ("八",),
    "9": ("勾", "九"),
}

WECHAT_ALIASES = ("薇信", "威信", "VX", "vx", "V信", "wx", "徽信", "维信", "卫星")
QQ_ALIASES = ("扣扣", "企鹅", "Q号", "扣", "q")
ADD_WECHAT_PHRASES = ("加V", "加v", "+V", "加薇", "威：", "V：", "➕V")


def to_fullwidth(text: str) -> str:
    """Digits and Latin letters in their full-width forms (０-９, Ａ-Ｚ)."""
    return text.translate(_FULLWIDTH)


def to_traditional(text: str) -> str:
    """Simplified characters replaced by traditional ones where our table knows them."""
    return text.translate(_TRADITIONAL)


def space_out(text: str, sep: str = " ") -> str:
    """Every character separated, e.g. 限男性 -> 限 男 性."""
    return sep.join(text)


def split_with_newline(rng: random.Random, text: str) -> str:
    """A line break in the middle of a phrase, which defeats line-by-line matching."""
    if len(text) < 2:
        return text
    cut = rng.randint(1, len(text) - 1)
    return text[:cut] + "\n" + text[cut:]


def spoken_digits(rng: random.Random, digits: str) -> str:
    """Digits read out as characters: 138... -> 幺三八…"""
    return "".join(rng.choice(_SPOKEN_DIGITS[d]) if d in _SPOKEN_DIGITS else d for d in digits)


def grouped(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    """Digits cut into groups (e.g. 3-4-4 for a phone, 4-4-4-4 for a card)."""
    parts, start = [], 0
    for size in sizes:
        if start >= len(digits):
            break
        parts.append(digits[start : start + size])
        start += size
    if start < len(digits):
        parts.append(digits[start:])
    return sep.join(parts)


def disguise_mobile(rng: random.Random, mobile: str) -> str:
    """A mobile number written so a plain 11-digit pattern misses it."""
    style = rng.randrange(5)
    if style == 0:
        return spoken_digits(rng, mobile)
    if style == 1:
        return to_fullwidth(mobile)
    if style == 2:
        return grouped(mobile, (3, 4, 4), rng.choice((" ", "-", " - ")))
    if style == 3:
        return space_out(mobile)
    return "+86 " + grouped(mobile, (3, 4, 4), " ")


def disguise_resident_id(rng: random.Random, resident_id: str) -> str:
    """A resident ID in full-width digits, spaced groups, or with a lower-case x."""
    style = rng.randrange(4)
    if style == 0:
        return to_fullwidth(resident_id)
    if style == 1:
        return grouped(resident_id, (6, 8, 4), " ")
    if style == 2:
        return grouped(resident_id, (4, 4, 4, 4, 2), " ")
    return grouped(resident_id, (6, 4, 4, 4), "-").lower()


def disguise_bank_card(rng: random.Random, card: str) -> str:
    """A card number in groups of four or in full-width digits."""
    style = rng.randrange(3)
    if style == 0:
        return to_fullwidth(card)
    return grouped(card, (4, 4, 4, 4), "-" if style == 1 else " ")


def disguise_email(rng: random.Random, email: str) -> str:
    """An e-mail address with the @ or dot spelled out."""
    user, _, domain = email.partition("@")
    style = rng.randrange(3)
    if style == 0:
        return f"{user}#{domain}（#换成@）"
    if style == 1:
        return f"{user} at {domain.replace('.', ' dot ')}"
    return to_fullwidth(user) + "＠" + domain
